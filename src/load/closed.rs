//! The closed model, for throughput: N connections, each sending its next request as soon as
//! the previous one is answered. Latency here is service time: a stalled server slows the
//! clients down instead of showing as queueing (coordinated omission), so use the open model to
//! measure latency.

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::attempt::Sender;
use super::handle::Control;
use super::mix::Mix;

pub(super) struct ClosedRun {
    pub sender: Sender,
    pub mix: Mix,
    pub connections: usize,
    pub until: Option<Instant>,
}

impl ClosedRun {
    pub async fn run(self, mut control: watch::Receiver<Control>) {
        let mut workers = JoinSet::new();
        for _ in 0..self.connections {
            let sender = self.sender.clone();
            let mut picker = self.mix.picker();
            let until = self.until;
            let control = control.clone();
            workers.spawn(async move {
                while until.is_none_or(|until| Instant::now() < until) && control.borrow().sending {
                    sender.recorder.scheduled(false);
                    sender
                        .request(picker.next_endpoint(), Instant::now(), None)
                        .await;
                }
            });
        }
        let stopped = async {
            while control.changed().await.is_ok() {
                if !control.borrow_and_update().sending {
                    return;
                }
            }
            // The handle is gone: it aborts this task too.
            std::future::pending::<()>().await;
        };
        match self.until {
            Some(until) => tokio::select! {
                () = tokio::time::sleep_until(until) => {}
                () = stopped => {}
            },
            None => stopped.await,
        }
        self.sender.recorder.sending_ended();
        // Each worker ends after its current request, which its attempt timeout bounds.
        while workers.join_next().await.is_some() {}
    }
}
