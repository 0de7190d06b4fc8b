//! End-to-end tests against the local stack (moto + the local runner). One binary, so the
//! stack starts once and the link happens once.

mod approval;
mod contractors;
mod contracts;
mod documents;
mod handlers;
mod newcomer;
mod notifications;
mod onboarding;
mod openapi;
mod pipeline;
mod privacy;
mod provisioning;
mod real_documents;
mod realtime;
mod runner;
mod template;
mod trust;
mod verification;
mod webhooks;
mod zz_after_suite;
