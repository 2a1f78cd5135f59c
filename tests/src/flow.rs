//! Steps that drive the canonical scenario through the public API only.
//!
//! Each step returns what the services answered, so a test can check it, and fails with a message
//! naming the step.

use anyhow::{anyhow, Context};
use hoinghi_shared::api::{ConferenceStatus, ConferenceView, MinutesStatus, MinutesView, Roster, RosterState};
use hoinghi_shared::{ConferenceId, SiteId};

use crate::client::{eventually, Api};
use crate::scenario::{self, Answer};
use crate::ASYNC_TIMEOUT;

/// Registers the nine sites of the scenario.
///
/// # Errors
/// A registration was refused.
pub async fn register_sites(api: &Api) -> anyhow::Result<()> {
    for r in scenario::registrations() {
        api.register_site(&r.id, &r.name).await.with_context(|| format!("register {}", r.id))?;
    }
    Ok(())
}

/// Registers the sites and schedules the conference; returns it.
///
/// # Errors
/// A command was refused.
pub async fn schedule(api: &Api) -> anyhow::Result<ConferenceId> {
    register_sites(api).await?;
    Ok(api.create(&scenario::create_conference()).await.context("create the conference")?.id)
}

/// Polls `read` until what it answers is in the `wanted` state (as `state` reads it); `what` names
/// it in the error.
async fn wait_for<T, S, Fut>(
    what: &str,
    read: impl Fn() -> Fut,
    state: impl Fn(&T) -> S,
    wanted: S,
) -> anyhow::Result<T>
where
    S: PartialEq + std::fmt::Debug,
    Fut: std::future::Future<Output = Result<T, hoinghi_shared::ApiError>>,
{
    eventually(ASYNC_TIMEOUT, || async {
        let value = read().await.map_err(|e| anyhow!(e))?;
        let now = state(&value);
        if now == wanted {
            Ok(value)
        } else {
            Err(anyhow!("{what} is {now:?}, waiting for {wanted:?}"))
        }
    })
    .await
}

/// Polls until the roster exists and is in `state`.
///
/// # Errors
/// Not within [`ASYNC_TIMEOUT`].
pub async fn wait_roster(api: &Api, conference: ConferenceId, state: RosterState) -> anyhow::Result<Roster> {
    wait_for("roster", || api.roster(conference), |r| r.state, state)
        .await
        .with_context(|| format!("the roster of {conference} becoming {state:?}"))
}

/// Issues the invitations and waits until the roster is open.
///
/// # Errors
/// Refused, or the roster did not open.
pub async fn invite(api: &Api, conference: ConferenceId) -> anyhow::Result<Roster> {
    api.invite(conference).await.context("invite")?;
    wait_roster(api, conference, RosterState::Open).await
}

/// Registers the sites, schedules the conference and issues the invitations; returns the
/// conference once its roster is open.
///
/// # Errors
/// A command was refused, or the roster did not open.
pub async fn invited(api: &Api) -> anyhow::Result<ConferenceId> {
    let conference = schedule(api).await?;
    invite(api, conference).await?;
    Ok(conference)
}

/// Plays one site's answer from the scenario (confirm or decline; nothing for the silent one).
///
/// # Errors
/// Refused.
pub async fn answer(api: &Api, conference: ConferenceId, site: &SiteId) -> anyhow::Result<()> {
    let Some((_, a)) = scenario::answers().into_iter().find(|(s, _)| s == site) else {
        return Err(anyhow!("{site} is not a linked site of the scenario"));
    };
    match a {
        Answer::Confirm { .. } => {
            let request =
                scenario::confirmation(conference, site).ok_or_else(|| anyhow!("no confirmation for {site}"))?;
            api.confirm(site, &request).await.with_context(|| format!("{site} confirms"))?;
        }
        Answer::Decline { reason } => {
            api.decline(site, conference, &reason).await.with_context(|| format!("{site} declines"))?;
        }
        Answer::Silent => {}
    }
    Ok(())
}

/// Plays every site's answer.
///
/// # Errors
/// One was refused.
pub async fn answer_all(api: &Api, conference: ConferenceId) -> anyhow::Result<()> {
    for site in scenario::site_ids() {
        answer(api, conference, &site).await?;
    }
    Ok(())
}

/// The sites that check in according to the scenario.
pub use crate::scenario::present_sites;

/// The present sites check in.
///
/// # Errors
/// One was refused.
pub async fn check_in_present(api: &Api, conference: ConferenceId) -> anyhow::Result<()> {
    for site in present_sites() {
        api.check_in(&site, conference).await.with_context(|| format!("{site} checks in"))?;
    }
    Ok(())
}

/// Starts the session and the present sites check in.
///
/// # Errors
/// Refused.
pub async fn hold_session(api: &Api, conference: ConferenceId) -> anyhow::Result<()> {
    api.start(conference).await.context("start")?;
    check_in_present(api, conference).await
}

/// Polls until the minutes draft exists.
///
/// # Errors
/// Not within [`ASYNC_TIMEOUT`].
pub async fn wait_draft(api: &Api, conference: ConferenceId) -> anyhow::Result<MinutesView> {
    wait_draft_within(api, conference, ASYNC_TIMEOUT).await
}

/// Polls until the minutes draft exists, for at most `timeout`.
///
/// # Errors
/// Not within `timeout`.
pub async fn wait_draft_within(
    api: &Api,
    conference: ConferenceId,
    timeout: std::time::Duration,
) -> anyhow::Result<MinutesView> {
    eventually(timeout, || api.minutes(conference)).await.context("the minutes draft opening")
}

/// Polls until the conference has `status`.
///
/// # Errors
/// Not within [`ASYNC_TIMEOUT`].
pub async fn wait_status(
    api: &Api,
    conference: ConferenceId,
    status: ConferenceStatus,
) -> anyhow::Result<ConferenceView> {
    wait_for("conference", || api.conference(conference), |v| v.status, status)
        .await
        .with_context(|| format!("conference {conference} becoming {status:?}"))
}

/// Schedules, invites, answers, starts the session and checks the present sites in.
///
/// # Errors
/// A step failed.
pub async fn run_to_session(api: &Api) -> anyhow::Result<ConferenceId> {
    let conference = invited(api).await?;
    answer_all(api, conference).await?;
    hold_session(api, conference).await?;
    Ok(conference)
}

/// [`run_to_session`], then ends the session and waits for the draft.
///
/// # Errors
/// A step failed.
pub async fn run_to_draft(api: &Api) -> anyhow::Result<ConferenceId> {
    let conference = run_to_session(api).await?;
    api.end(conference).await.context("end")?;
    wait_draft(api, conference).await?;
    Ok(conference)
}

/// `api` acting as the scenario's person `id` (on a server without authentication; see
/// [`Api::as_person`]).
pub fn as_person(api: &Api, id: &str) -> Api {
    api.as_person(&scenario::person_id(id))
}

/// `api` acting as the scenario's minute-taker ([`scenario::MINUTE_TAKER`]).
pub fn minute_taker(api: &Api) -> Api {
    as_person(api, scenario::MINUTE_TAKER)
}

/// `api` acting as the person bound to the scenario's `n`th co-chair ([`scenario::CHAIR_PERSONS`]).
pub fn chair(api: &Api, n: usize) -> Api {
    as_person(api, scenario::CHAIR_PERSONS[n])
}

/// The scenario's minute-taker's subject of the minutes' `action`
/// (`hoinghi.v1.minutes.persons.<minute-taker>.<action>`).
pub fn minute_taker_subject(action: &str) -> String {
    hoinghi_shared::subjects::minutes::person_command(&scenario::person_id(scenario::MINUTE_TAKER), action)
}

/// The subject of the minutes' `action` of the person bound to the scenario's `n`th co-chair.
pub fn chair_subject(n: usize, action: &str) -> String {
    hoinghi_shared::subjects::minutes::person_command(&scenario::person_id(scenario::CHAIR_PERSONS[n]), action)
}

/// The scenario's minute-taker records every agenda item.
///
/// # Errors
/// One was refused.
pub async fn record_all(api: &Api, conference: ConferenceId) -> anyhow::Result<MinutesView> {
    let taker = minute_taker(api);
    let mut last = None;
    for item in scenario::records(conference) {
        last = Some(taker.record(&item).await.with_context(|| format!("record item {}", item.item))?);
    }
    last.ok_or_else(|| anyhow!("the scenario has no agenda"))
}

/// Every co-chair of the scenario approves the submitted minutes as themself (its policy is `all`),
/// the [`scenario::APPROVER`] first; the reply to the last approval.
///
/// # Errors
/// An approval failed.
pub async fn approve_all(api: &Api, conference: ConferenceId) -> anyhow::Result<MinutesView> {
    let mut last = None;
    for person in scenario::CHAIR_PERSONS {
        let chair = as_person(api, person);
        last = Some(chair.approve(conference).await.with_context(|| format!("approve by {person}"))?);
    }
    last.ok_or_else(|| anyhow!("the scenario has no chair"))
}

/// Records, submits, approves (by every co-chair) and publishes the minutes, each as the person
/// whose part it is.
///
/// # Errors
/// A step failed, or the result is not published.
pub async fn write_and_publish(api: &Api, conference: ConferenceId) -> anyhow::Result<MinutesView> {
    record_all(api, conference).await?;
    minute_taker(api).submit(conference).await.context("submit")?;
    approve_all(api, conference).await?;
    let published = minute_taker(api).publish(conference).await.context("publish")?;
    if published.status != MinutesStatus::Published {
        return Err(anyhow!("publish answered status {:?}", published.status));
    }
    Ok(published)
}
