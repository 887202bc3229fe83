//! Deterministic, scriptable faults: the emulator misbehaves exactly when told to, so that a
//! client's recovery can be tested without luck.
//!
//! A [`Fault`] names an [`FaultAction`], the operation it applies to (AppendObject unless
//! said otherwise), optionally one key, how many matching requests it hits (`count`) and how
//! many matching requests it lets through first (`skip`). Faults wait in a FIFO queue; each
//! authenticated request consults the first fault that matches its operation and key: while
//! that fault's `skip` is positive, the request passes and `skip` drops by one; otherwise the
//! fault fires and its `count` drops by one (it leaves the queue at 0).
//!
//! Faults are queued with [`crate::RunningEmulator::inject`], with `--fault SPEC` on the command
//! line, or — only when `enable_fault_admin` is set (`--enable-fault-admin`) — over HTTP on the
//! emulator's own port, without a signature but with the header `x-oss-emulator-admin: 1` and
//! no `Origin` header (see [`crate::ADMIN_HEADER`]):
//!
//! * `POST /__faults` with one spec per line queues faults;
//! * `GET /__faults` lists the queue and what fired;
//! * `DELETE /__faults` empties the queue;
//! * `POST /__restart` (optional body `down-ms=N`) restarts the server now.
//!
//! A spec is `name=value` pairs separated by `,` or `&`, values percent-decoded:
//! `action=drop-after-commit,count=2,key=logs/app.log`, `action=status,status=503`,
//! `action=delay-response,ms=1500`, `action=reset-mid-body,after-bytes=1000`,
//! `action=slow-read,bytes-per-sec=65536`, `action=corrupt`, `action=restart,after-commit=true`,
//! `op=head,action=status,status=500`, `skip=3`.
//!
//! Files: `spec.rs` (the types and their text form), `queue.rs` (the queue), `apply.rs`
//! (carrying a fault out on one request, for the handlers and the server).

mod apply;
mod queue;
mod spec;

pub(crate) use apply::FaultState;
pub(crate) use queue::FaultQueue;
pub use queue::FiredFault;
pub use spec::{Fault, FaultAction, FaultOp};
