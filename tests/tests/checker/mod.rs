//! The history checker's parts: backends and their faults, the workload, the history and the
//! model it is checked against.

pub mod backends;
pub mod faulty;
pub mod history;
pub mod model;
pub mod run;
pub mod s3_lost_answers;
pub mod turns;
pub mod workload;
