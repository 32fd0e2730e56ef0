#!/usr/bin/env python3
"""Answers every GET with a minimal checkpoint reply (used once, to give
Prisma's client a fresh cache for the "no ping due" case). Prints its port."""
import http.server
import json


class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"product": "prisma", "current_version": "1.0.0", "current_release": 0,
                           "current_release_date": 0, "current_download_url": "", "current_changelog_url": "",
                           "project_website": "", "outdated": False, "alerts": [], "client_event_id": "",
                           "previous_client_event_id": "", "previous_version": "1.0.0", "cli_path_hash": "",
                           "local_timestamp": "", "package": "", "release_tag": "", "install_command": ""}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
