//! `redrive <dead-letter-queue-url> <queue-url> [limit]`: moves up to `limit` (default
//! 10,000) messages from a dead-letter queue back to the queue it serves, against whatever
//! the environment's AWS configuration names (a deployed stack: `AWS_PROFILE`,
//! `AWS_REGION`). The logic is `platform::sqs::redrive`, the one `make redrive` uses
//! against the local stack. Consumers are idempotent, so a message moved twice (a crash
//! between send and delete) is handled once.

use platform::{BoxError, Env};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dead_letters), Some(target)) = (args.first(), args.get(1)) else {
        eprintln!("usage: redrive <dead-letter-queue-url> <queue-url> [limit]");
        std::process::exit(2);
    };
    let limit = match args.get(2) {
        Some(n) => n
            .parse()
            .map_err(|_| format!("limit {n:?} is not a number"))?,
        None => 10_000,
    };
    let aws = platform::aws::Aws::load(&Env::Process).await;
    let moved = platform::sqs::redrive(&aws.sqs(), dead_letters, target, limit).await?;
    println!("moved {moved} message(s) from {dead_letters} to {target}");
    Ok(())
}
