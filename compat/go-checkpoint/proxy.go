// The HTTP CONNECT proxy the harness puts in front of the collector.

package main

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// connectProxy tunnels every CONNECT, whatever host it names, to one
// upstream address, and remembers which hosts were asked for.
type connectProxy struct {
	upstream string
	listener net.Listener
	server   *http.Server

	mu      sync.Mutex
	hosts   []string
	tunnels int
}

func startProxy(upstream string) (*connectProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &connectProxy{upstream: upstream, listener: ln}
	p.server = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go p.server.Serve(ln)
	return p, nil
}

// Addr is the proxy's host:port.
func (p *connectProxy) Addr() string { return p.listener.Addr().String() }

// Close stops accepting and drops open tunnels.
func (p *connectProxy) Close() { p.server.Close() }

// Tunnels is how many CONNECTs were tunnelled so far.
func (p *connectProxy) Tunnels() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tunnels
}

// Hosts lists the host:port of every CONNECT, in order.
func (p *connectProxy) Hosts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string{}, p.hosts...)
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "this proxy only tunnels CONNECT", http.StatusMethodNotAllowed)
		return
	}
	upstream, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		upstream.Close()
		http.Error(w, "hijacking unsupported", http.StatusInternalServerError)
		return
	}
	client, buf, err := hj.Hijack()
	if err != nil {
		upstream.Close()
		return
	}
	p.mu.Lock()
	p.hosts = append(p.hosts, r.Host)
	p.tunnels++
	p.mu.Unlock()

	if _, err := client.Write([]byte("HTTP/1.1 200 Connection Established\r\n\r\n")); err != nil {
		client.Close()
		upstream.Close()
		return
	}
	// Bytes the client sent after the CONNECT head (normally none yet).
	if n := buf.Reader.Buffered(); n > 0 {
		pending, _ := buf.Reader.Peek(n)
		if _, err := upstream.Write(pending); err != nil {
			client.Close()
			upstream.Close()
			return
		}
	}
	go func() {
		io.Copy(upstream, client)
		upstream.Close()
	}()
	io.Copy(client, upstream)
	client.Close()
}
