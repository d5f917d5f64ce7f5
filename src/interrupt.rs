//! Ctrl-C, one mechanism for every subcommand: a listener on the runtime sets a flag that long
//! runs poll (pool-bench stops its clients and still reports) and that [`Interrupt::wait`] turns
//! into a future, so a command can be dropped mid-flight (closing its connections).

use tokio::sync::watch;

/// Whether Ctrl-C was pressed since [`Interrupt::listen`].
#[derive(Debug, Clone)]
pub(crate) struct Interrupt(watch::Receiver<bool>);

impl Interrupt {
    /// Starts listening for Ctrl-C; call inside the runtime that runs the command.
    pub(crate) fn listen() -> Interrupt {
        let (sender, receiver) = watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = sender.send(true);
            }
        });
        Interrupt(receiver)
    }

    pub(crate) fn requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves when Ctrl-C is pressed; never, when no listener can be set up.
    pub(crate) async fn wait(&self) {
        let mut receiver = self.0.clone();
        if receiver.wait_for(|pressed| *pressed).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
