//! The closed model, for throughput: N connections, each sending its next request as soon as
//! the previous one is answered. Latency here is service time: a stalled server slows the
//! clients down instead of showing as queueing (coordinated omission), so use the open model to
//! measure latency.

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::attempt::Sender;
use super::connection::{Connection, PlainTarget};
use super::handle::Control;
use super::mix::{Endpoint, Mix};

/// How often a paused client looks whether it may go on.
const PAUSED_CHECK: std::time::Duration = std::time::Duration::from_millis(100);

pub(super) struct ClosedRun {
    pub sender: Sender,
    pub mix: Mix,
    pub connections: usize,
    /// The pause after each answer before the next request.
    pub think: std::time::Duration,
    pub until: Option<Instant>,
    /// A plain `http://` target is driven through hyper directly; others through reqwest.
    pub plain: Option<PlainTarget>,
}

/// One client of the closed model on its own kept-alive connection, opened again after a
/// failed exchange (the server may have closed it).
async fn send_on(
    connection: &mut Option<Connection>,
    sender: &Sender,
    target: &PlainTarget,
    endpoint: Endpoint,
) {
    let started = Instant::now();
    sender.recorder.attempt_sent(false);
    if connection.is_none() {
        *connection = Connection::open(target, sender.attempt_timeout).await;
    }
    let (status, timed_out) = match connection.as_mut() {
        Some(open) => open.send(target, endpoint, sender.attempt_timeout).await,
        None => (super::retry::TRANSPORT_ERROR, false),
    };
    if status == super::retry::TRANSPORT_ERROR {
        *connection = None;
    }
    let took = started.elapsed();
    sender.recorder.attempt_answered(status, timed_out, took);
    sender.recorder.request_done(endpoint, status, took);
}

impl ClosedRun {
    pub async fn run(self, mut control: watch::Receiver<Control>) {
        let mut workers = JoinSet::new();
        for _ in 0..self.connections {
            let sender = self.sender.clone();
            let mut picker = self.mix.picker();
            let until = self.until;
            let control = control.clone();
            let plain = self.plain.clone();
            let think = self.think;
            workers.spawn(async move {
                let mut connection = None;
                while until.is_none_or(|until| Instant::now() < until) && control.borrow().sending {
                    if control.borrow().paused {
                        tokio::time::sleep(PAUSED_CHECK).await;
                        continue;
                    }
                    sender.recorder.scheduled(false);
                    let endpoint = picker.next_endpoint();
                    match &plain {
                        Some(target) => send_on(&mut connection, &sender, target, endpoint).await,
                        None => sender.request(endpoint, Instant::now(), None).await,
                    }
                    if !think.is_zero() {
                        tokio::time::sleep(think).await;
                    }
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
