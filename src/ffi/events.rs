//! [`Events`]: the event listeners of one client (sync, connectivity, errors, rejections) and
//! the core callbacks that feed them.

use std::sync::Arc;

use crate::ffi::error::MizuError;
use crate::ffi::listener::{ConnectivityListener, ErrorListener, RejectionListener, SyncListener};
use crate::ffi::listener_list::{deliver, report_unhandled, ListenerList};
use crate::ffi::record::RejectedMutation;

/// The listeners of one client, called on its engine thread, never under a lock.
pub(crate) struct Events {
    pub(crate) sync: Arc<ListenerList<dyn SyncListener>>,
    pub(crate) connectivity: Arc<ListenerList<dyn ConnectivityListener>>,
    pub(crate) errors: Arc<ListenerList<dyn ErrorListener>>,
    pub(crate) rejections: Arc<ListenerList<dyn RejectionListener>>,
}

impl Events {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Events {
            sync: ListenerList::new(),
            connectivity: ListenerList::new(),
            errors: ListenerList::new(),
            rejections: ListenerList::new(),
        })
    }

    /// Routes the core's callbacks in `options` to these listeners.
    pub(crate) fn install(self: &Arc<Self>, options: crate::Options) -> crate::Options {
        let (sync, connectivity, error) = (Arc::clone(self), Arc::clone(self), Arc::clone(self));
        options
            .on_sync(move |cursor| {
                for listener in sync.sync.snapshot() {
                    sync.check(listener.on_sync(cursor));
                }
            })
            .on_connectivity(move |online| connectivity.connectivity_changed(online))
            .on_error(move |e| error.core_error(e))
    }

    fn connectivity_changed(&self, online: bool) {
        for listener in self.connectivity.snapshot() {
            self.check(listener.on_connectivity(online));
        }
    }

    fn core_error(&self, error: &crate::Error) {
        if let crate::Error::Rejected {
            mutation_id,
            name,
            reason,
        } = error
        {
            let mutation = RejectedMutation {
                mutation_id: mutation_id.clone(),
                name: name.clone(),
                reason: reason.clone(),
            };
            for listener in self.rejections.snapshot() {
                self.check(listener.on_rejected(mutation.clone()));
            }
        }
        deliver(&self.errors.snapshot(), &MizuError::from(error.clone()));
    }

    /// Reports a failed host listener call through the error listeners (or, without any, as
    /// an unhandled error).
    pub(crate) fn check(&self, outcome: Result<(), MizuError>) {
        if let Err(e) = outcome {
            self.report(e);
        }
    }

    /// Hands `error` to the error listeners, or to the unhandled-error listeners when there
    /// are none.
    pub(crate) fn report(&self, error: MizuError) {
        let listeners = self.errors.snapshot();
        if listeners.is_empty() {
            report_unhandled(error);
        } else {
            deliver(&listeners, &error);
        }
    }

    /// Unregisters every listener.
    pub(crate) fn clear(&self) {
        self.sync.clear();
        self.connectivity.clear();
        self.errors.clear();
        self.rejections.clear();
    }
}
