//! The one conformance suite every backend passes. Each backend's tests call
//! [`run_all`] with a fresh, empty store.
