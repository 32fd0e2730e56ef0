//! [`Pending`]: the handle of a queued write, resolving to its typed result
//! once the write is durable (or has failed).

use tokio::sync::oneshot;

use crate::StoreError;

/// The sending end a backend answers a queued write through.
pub type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A queued write; resolves once its batch has committed (or failed). A
/// backend that drops the write unanswered resolves it to [`StoreError::Closed`].
#[derive(Debug)]
pub struct Pending<T> {
    rx: oneshot::Receiver<Result<T, StoreError>>,
}

impl<T> Pending<T> {
    /// A handle and the [`Reply`] that answers it.
    pub fn channel() -> (Reply<T>, Self) {
        let (tx, rx) = oneshot::channel();
        (tx, Pending { rx })
    }

    /// A handle already answered with `result` (for backends that write
    /// synchronously).
    pub fn ready(result: Result<T, StoreError>) -> Self {
        let (tx, pending) = Self::channel();
        // The receiver is alive (it is in `pending`), so this cannot fail.
        let _ = tx.send(result);
        pending
    }

    /// Waits for the commit.
    pub async fn wait(self) -> Result<T, StoreError> {
        self.rx.await.unwrap_or(Err(StoreError::Closed))
    }

    /// The result if the write has already been answered, without waiting.
    pub fn try_wait(&mut self) -> Option<Result<T, StoreError>> {
        match self.rx.try_recv() {
            Ok(r) => Some(r),
            Err(oneshot::error::TryRecvError::Empty) => None,
            Err(oneshot::error::TryRecvError::Closed) => Some(Err(StoreError::Closed)),
        }
    }

    /// Waits for the commit, blocking the thread. Do not call inside an async runtime.
    pub fn wait_blocking(self) -> Result<T, StoreError> {
        self.rx.blocking_recv().unwrap_or(Err(StoreError::Closed))
    }
}
