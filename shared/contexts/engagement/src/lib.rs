//! Engagement: what keeps a contractor going and informed. Badges and the progress ring are
//! derived from the contractor's state (never counted per event, so duplicated and shuffled
//! events decide the same thing); realtime turns domain events into the messages a
//! contractor's app (or a reviewer's console) receives, numbered in an activity feed that is
//! the truth the socket only shortcuts. Notifications decide which email an event means,
//! rendered here from `templates/email` so every provider sends the same thing. Depends on the kernel and onboarding.

pub mod badges;
pub mod email;
pub mod facts;
pub mod notifications;
pub mod ports;
pub mod progress;
pub mod realtime;
pub mod reminders;

use domain_kernel::{events, ids};
