//! Engagement's storage: realtime tickets (by digest, taken once with a conditional
//! delete), connections (one item per audience listing and one by id), the per-contractor
//! activity feed (a head holding the last number, entries by number, and a marker per event
//! so a redelivered event gets no second number) and badge holdings (written with their
//! events through the outbox). Every item that only matters for a while carries the table's
//! TTL attribute (`expires_at`, epoch seconds).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue};
use chrono::{DateTime, Duration, Utc};
use domain::engagement::badges::{Holding, Move};
use domain::engagement::ports::{BadgeStore, Connections, Feed, Tickets};
use domain::engagement::realtime::{
    Audience, ClientMessage, Connection, FeedQuery, Grant, Role, TicketSecret,
};
use domain::events::DomainEvent;
use domain::ids::ContractorId;
use domain::ports::RepoError;
use platform::events::SnsPublisher;
use serde::{Deserialize, Serialize};

use crate::{Table, keys};

type Item = HashMap<String, AttributeValue>;

/// How long the feed keeps a message: long enough for any client to catch up after weeks
/// offline, bounded so the feed doesn't grow forever.
pub const FEED_RETENTION: Duration = Duration::days(90);

fn store_err(e: impl std::error::Error + Send + Sync + 'static) -> RepoError {
    RepoError::Store(Box::new(e))
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

// ---- Tickets ----

#[derive(Serialize, Deserialize)]
struct TicketItem {
    pk: String,
    sk: String,
    entity: String,
    subject: String,
    role: Role,
    audience: Audience,
    valid_until: DateTime<Utc>,
    /// TTL: a ticket nobody redeemed disappears soon after it stops working.
    expires_at: i64,
}

#[derive(Clone, Debug)]
pub struct DynamoTickets {
    table: Table,
}

impl DynamoTickets {
    pub fn new(table: Table) -> Self {
        DynamoTickets { table }
    }
}

impl Tickets for DynamoTickets {
    async fn issue(&self, grant: &Grant) -> Result<TicketSecret, RepoError> {
        let mut random = [0u8; 32];
        aws_lc_rs::rand::fill(&mut random)
            .map_err(|_| RepoError::Store("no randomness for a ticket".into()))?;
        let secret = TicketSecret::from_random(&random);
        let item = serde_dynamo::to_item(TicketItem {
            pk: keys::ticket_pk(&secret.digest()),
            sk: keys::TICKET_SK.to_owned(),
            entity: "realtime_ticket".to_owned(),
            subject: grant.subject.clone(),
            role: grant.role,
            audience: grant.audience.clone(),
            valid_until: grant.expires_at,
            expires_at: (grant.expires_at + Duration::minutes(5)).timestamp(),
        })
        .map_err(store_err)?;
        self.table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| RepoError::Store(crate::failure(&e)))?;
        Ok(secret)
    }

    async fn redeem(
        &self,
        secret: &TicketSecret,
        now: DateTime<Utc>,
    ) -> Result<Option<Grant>, RepoError> {
        // One conditional delete: of two connections racing with one ticket, one wins.
        let taken = self
            .table
            .client
            .delete_item()
            .table_name(&self.table.name)
            .key(keys::PK, s(keys::ticket_pk(&secret.digest())))
            .key(keys::SK, s(keys::TICKET_SK))
            .condition_expression("attribute_exists(pk)")
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let old = match taken {
            Ok(out) => out.attributes,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(RepoError::Store(crate::failure(&e))),
        };
        let Some(old) = old else { return Ok(None) };
        let item: TicketItem = serde_dynamo::from_item(old).map_err(store_err)?;
        // Expired tickets are taken too (they are useless), but grant nothing.
        Ok((item.valid_until > now).then_some(Grant {
            subject: item.subject,
            role: item.role,
            audience: item.audience,
            expires_at: item.valid_until,
        }))
    }
}

// ---- Connections ----

#[derive(Serialize, Deserialize)]
struct ConnectionItem {
    pk: String,
    sk: String,
    entity: String,
    connection_id: String,
    audience: Audience,
    subject: String,
    connected_at: DateTime<Utc>,
    /// TTL: API Gateway drops a connection after 2 hours; a missed `$disconnect` leaves
    /// nothing behind for long.
    expires_at: i64,
}

impl ConnectionItem {
    fn pair(c: &Connection) -> [ConnectionItem; 2] {
        let item = |pk: String, sk: String| ConnectionItem {
            pk,
            sk,
            entity: "realtime_connection".to_owned(),
            connection_id: c.id.clone(),
            audience: c.audience.clone(),
            subject: c.subject.clone(),
            connected_at: c.connected_at,
            expires_at: c.expires_at.timestamp(),
        };
        [
            item(
                keys::audience_pk(&c.audience.key()),
                keys::audience_connection_sk(&c.id),
            ),
            item(keys::connection_pk(&c.id), keys::CONNECTION_SK.to_owned()),
        ]
    }

    fn connection(self) -> Connection {
        Connection {
            id: self.connection_id,
            audience: self.audience,
            subject: self.subject,
            connected_at: self.connected_at,
            expires_at: DateTime::from_timestamp(self.expires_at, 0).unwrap_or_default(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct DynamoConnections {
    table: Table,
}

impl DynamoConnections {
    pub fn new(table: Table) -> Self {
        DynamoConnections { table }
    }
}

impl Connections for DynamoConnections {
    async fn open(&self, connection: &Connection) -> Result<(), RepoError> {
        let mut items = Vec::new();
        for item in ConnectionItem::pair(connection) {
            let item: Item = serde_dynamo::to_item(item).map_err(store_err)?;
            items.push(crate::contractors::put(&self.table.name, item, None)?);
        }
        self.table
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(|e| RepoError::Store(crate::failure(&e)))?;
        Ok(())
    }

    async fn close(&self, id: &str) -> Result<Option<Connection>, RepoError> {
        let out = self
            .table
            .client
            .delete_item()
            .table_name(&self.table.name)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::CONNECTION_SK))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| RepoError::Store(crate::failure(&e)))?;
        let Some(old) = out.attributes else {
            return Ok(None);
        };
        let item: ConnectionItem = serde_dynamo::from_item(old).map_err(store_err)?;
        self.table
            .client
            .delete_item()
            .table_name(&self.table.name)
            .key(keys::PK, s(keys::audience_pk(&item.audience.key())))
            .key(keys::SK, s(keys::audience_connection_sk(id)))
            .send()
            .await
            .map_err(|e| RepoError::Store(crate::failure(&e)))?;
        Ok(Some(item.connection()))
    }

    async fn of(
        &self,
        audience: &Audience,
        now: DateTime<Utc>,
    ) -> Result<Vec<Connection>, RepoError> {
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .table
                .client
                .query()
                .table_name(&self.table.name)
                .key_condition_expression("pk = :pk")
                // TTL deletes lag: a connection past its end is gone whatever the table says.
                .filter_expression("expires_at > :now")
                .expression_attribute_values(":pk", s(keys::audience_pk(&audience.key())))
                .expression_attribute_values(":now", n(now.timestamp()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| RepoError::Store(crate::failure(&e)))?;
            for item in out.items.unwrap_or_default() {
                let item: ConnectionItem = serde_dynamo::from_item(item).map_err(store_err)?;
                found.push(item.connection());
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(found)
    }
}

// ---- The activity feed ----

#[derive(Serialize, Deserialize)]
struct FeedEntry {
    pk: String,
    sk: String,
    entity: String,
    seq: u64,
    /// The message as the client receives it (JSON).
    message: String,
    expires_at: i64,
}

#[derive(Serialize, Deserialize)]
struct FeedMarker {
    pk: String,
    sk: String,
    entity: String,
    first: u64,
    count: u64,
    expires_at: i64,
}

#[derive(Clone, Debug)]
pub struct DynamoFeed {
    table: Table,
}

impl DynamoFeed {
    pub fn new(table: Table) -> Self {
        DynamoFeed { table }
    }

    async fn head(&self, contractor: &ContractorId) -> Result<u64, RepoError> {
        let item = self
            .table
            .get_item(keys::feed_pk(contractor), keys::FEED_HEAD_SK)
            .await?;
        Ok(item
            .and_then(|i| {
                i.get("seq")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0))
    }

    async fn range(
        &self,
        contractor: &ContractorId,
        after: u64,
        last: Option<u64>,
        limit: usize,
    ) -> Result<Vec<ClientMessage>, RepoError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        let upper = last.map_or_else(|| format!("SEQ#{}", "9".repeat(20)), keys::feed_entry_sk);
        loop {
            let page = self
                .table
                .client
                .query()
                .table_name(&self.table.name)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(keys::feed_pk(contractor)))
                .expression_attribute_values(":from", s(keys::feed_entry_sk(after + 1)))
                .expression_attribute_values(":to", s(upper.clone()))
                .consistent_read(true)
                .limit((limit - out.len()).min(1000) as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| RepoError::Store(crate::failure(&e)))?;
            for item in page.items.unwrap_or_default() {
                let entry: FeedEntry = serde_dynamo::from_item(item).map_err(store_err)?;
                out.push(serde_json::from_str(&entry.message).map_err(store_err)?);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() && out.len() < limit => start = Some(k),
                _ => break,
            }
        }
        Ok(out)
    }
}

impl Feed for DynamoFeed {
    async fn append(
        &self,
        contractor: &ContractorId,
        event_id: &str,
        messages: &[ClientMessage],
    ) -> Result<Vec<ClientMessage>, RepoError> {
        if messages.is_empty() {
            return Ok(vec![]);
        }
        let pk = keys::feed_pk(contractor);
        let count = messages.len() as u64;
        let expires_at = (Utc::now() + FEED_RETENTION).timestamp();
        // Optimistic: read the head, write head + marker + entries if nobody moved it;
        // a lost race reads again.
        for _ in 0..20 {
            let head = self.head(contractor).await?;
            let numbered: Vec<ClientMessage> = messages
                .iter()
                .zip(head + 1..)
                .map(|(m, seq)| ClientMessage {
                    seq: Some(seq),
                    ..m.clone()
                })
                .collect();
            let marker = serde_dynamo::to_item(FeedMarker {
                pk: pk.clone(),
                sk: keys::feed_event_sk(event_id),
                entity: "feed_marker".to_owned(),
                first: head + 1,
                count,
                expires_at,
            })
            .map_err(store_err)?;
            let mut items = vec![crate::contractors::put(
                &self.table.name,
                marker,
                Some(("attribute_not_exists(pk)", vec![])),
            )?];
            let mut head_item: Item = HashMap::new();
            head_item.insert(keys::PK.into(), s(pk.clone()));
            head_item.insert(keys::SK.into(), s(keys::FEED_HEAD_SK));
            head_item.insert("entity".into(), s("feed_head"));
            head_item.insert("seq".into(), n(head + count));
            let head_condition = if head == 0 {
                ("attribute_not_exists(pk)", vec![])
            } else {
                ("seq = :seen", vec![(":seen", n(head))])
            };
            items.push(crate::contractors::put(
                &self.table.name,
                head_item,
                Some(head_condition),
            )?);
            for m in &numbered {
                let seq = m.seq.expect("numbered");
                let entry = serde_dynamo::to_item(FeedEntry {
                    pk: pk.clone(),
                    sk: keys::feed_entry_sk(seq),
                    entity: "feed_entry".to_owned(),
                    seq,
                    message: serde_json::to_string(m).map_err(store_err)?,
                    expires_at,
                })
                .map_err(store_err)?;
                items.push(crate::contractors::put(&self.table.name, entry, None)?);
            }
            match self
                .table
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await
            {
                Ok(_) => return Ok(numbered),
                Err(err) => {
                    let codes = crate::contractors::cancellation_codes(&err);
                    let failed = |i: usize| {
                        codes.get(i).and_then(|c| c.as_deref()) == Some("ConditionalCheckFailed")
                    };
                    if failed(0) {
                        // Numbered before: the same messages under their first numbers.
                        let marker = self
                            .table
                            .get_item(pk.clone(), &keys::feed_event_sk(event_id))
                            .await?
                            .ok_or_else(|| RepoError::Store("feed marker vanished".into()))?;
                        let marker: FeedMarker =
                            serde_dynamo::from_item(marker).map_err(store_err)?;
                        return self
                            .range(
                                contractor,
                                marker.first - 1,
                                Some(marker.first + marker.count - 1),
                                marker.count as usize,
                            )
                            .await;
                    }
                    if failed(1)
                        || codes
                            .iter()
                            .any(|c| c.as_deref() == Some("TransactionConflict"))
                    {
                        continue;
                    }
                    return Err(RepoError::Store(crate::failure(&err)));
                }
            }
        }
        Err(RepoError::VersionConflict)
    }

    async fn read(
        &self,
        contractor: &ContractorId,
        query: FeedQuery,
    ) -> Result<Vec<ClientMessage>, RepoError> {
        self.range(contractor, query.after, None, query.limit).await
    }
}

// ---- Badges ----

#[derive(Serialize, Deserialize)]
struct BadgeItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    holding: Holding,
}

#[derive(Clone, Debug)]
pub struct DynamoBadges {
    table: Table,
    publisher: Option<SnsPublisher>,
}

impl DynamoBadges {
    pub fn new(table: Table, publisher: Option<SnsPublisher>) -> Self {
        DynamoBadges { table, publisher }
    }
}

impl BadgeStore for DynamoBadges {
    async fn held(&self, contractor: &ContractorId) -> Result<Vec<Holding>, RepoError> {
        let items: Vec<BadgeItem> = self
            .table
            .query_prefix(keys::contractor_pk(contractor), &keys::badge_sk(""))
            .await?;
        Ok(items.into_iter().map(|b| b.holding).collect())
    }

    async fn apply(
        &self,
        contractor: &ContractorId,
        change: &Move,
        event: &DomainEvent,
    ) -> Result<(), RepoError> {
        let holding = change.holding();
        let item: Item = serde_dynamo::to_item(BadgeItem {
            pk: keys::contractor_pk(contractor),
            sk: keys::badge_sk(&holding.badge),
            entity: "badge".to_owned(),
            holding: holding.clone(),
        })
        .map_err(store_err)?;
        let expected = change.expected_revision();
        let mut put = Put::builder()
            .table_name(&self.table.name)
            .set_item(Some(item));
        put = if expected == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("revision = :expected")
                .expression_attribute_values(":expected", n(expected))
        };
        crate::outbox::commit_with_events(
            &self.table,
            self.publisher.as_ref(),
            put.build().map_err(store_err)?,
            std::slice::from_ref(event),
        )
        .await
    }
}
