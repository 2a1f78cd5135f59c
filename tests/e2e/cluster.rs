//! A three-node NATS cluster on loopback, from the configuration in `deploy/cluster/`: the services
//! create every stream with 3 replicas (`HOINGHI__NATS__REPLICAS=3`), their durable reaction
//! consumers inherit them, and when one node dies mid-flow (the leader of the attendance stream)
//! nothing acknowledged is lost, nothing is doubled, and the services carry on by themselves.
//! Authentication is on, as in the shipped files: each service connects with its own credentials;
//! a revocation pushed to one node cuts the identity's connection on another.

use std::time::{Duration, Instant};

use hoinghi_shared::api::{ConferenceRef, RosterState};
use hoinghi_shared::streams;
use hoinghi_shared::subjects::{events, scheduling};
use hoinghi_tests::bulk::{self, PacedLoad, RetryingClient};
use hoinghi_tests::cluster::NatsCluster;
use hoinghi_tests::{eventually, flow, Api, Service, ServiceProcess, ASYNC_TIMEOUT, READY_TIMEOUT, REDELIVERY_TIMEOUT};

use crate::common::assert_attendance_matches_roster;

/// Sites in the cluster conference.
const SITES: usize = 80;
/// A new site starts its commands this often.
const PACE: Duration = Duration::from_millis(40);

/// The cluster and the services on it; prints every log if the test fails.
struct Deployment {
    cluster: NatsCluster,
    services: Vec<ServiceProcess>,
}

impl Drop for Deployment {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for p in &self.services {
                eprint!("{}", p.log_report(40));
            }
            eprintln!("{}", self.cluster.logs(30));
        }
        for p in &mut self.services {
            p.kill();
        }
    }
}

/// Starts the cluster and one instance of each service, each given `url(cluster)` as
/// `HOINGHI__NATS__URL` and 3 replicas.
async fn deploy(url: impl Fn(&NatsCluster) -> String) -> (Deployment, Api) {
    let cluster = NatsCluster::start().await.unwrap();
    let client = cluster.connect(Duration::from_secs(3)).await.unwrap();
    let mut deployment = Deployment { cluster, services: Vec::new() };
    // One after the other: the first creates the four streams (a few seconds each on a cluster
    // that has just formed), the others find them.
    for s in Service::ALL {
        let mut p = ServiceProcess::new(s, &url(&deployment.cluster), deployment.cluster.dir()).unwrap();
        p.set_env("HOINGHI__NATS__REPLICAS", "3");
        // Each service with its own identities, as on a single server.
        deployment.cluster.configure_service(&mut p);
        // A service that cannot connect says why within the time the test waits for it.
        p.set_env("HOINGHI__NATS__CONNECT_TIMEOUT_MS", "10000");
        if let Err(e) = p.start(&client, READY_TIMEOUT).await {
            let log = std::fs::read_to_string(p.log_path()).unwrap_or_default();
            let head: Vec<&str> = log.lines().take(3).collect();
            let why = e.to_string().lines().next().unwrap_or_default().to_owned();
            panic!("{s} did not start on the cluster: {why}\nits log begins:\n{}", head.join("\n"));
        }
        deployment.services.push(p);
    }
    (deployment, Api::from_client(client))
}

/// Every stream has 3 replicas, every reaction consumer inherits them; returns the node leading
/// the attendance stream.
async fn check_replicas(js: &async_nats::jetstream::Context) -> String {
    // Right after creation a group may not have elected its leader yet: wait for one.
    let elected = |cluster: &Option<async_nats::jetstream::stream::ClusterInfo>| {
        cluster.as_ref().is_some_and(|c| c.leader.is_some() && c.replicas.len() == 2)
    };
    for def in streams::ALL {
        let info = eventually(ASYNC_TIMEOUT, || async {
            let mut stream = js.get_stream(def.name).await.map_err(|e| e.to_string())?;
            let info = stream.info().await.map_err(|e| e.to_string())?.clone();
            if elected(&info.cluster) {
                Ok(info)
            } else {
                Err(format!("{}: {:?}", def.name, info.cluster))
            }
        })
        .await
        .unwrap_or_else(|e| panic!("{}: a leader and two replicas: {e}", def.name));
        assert_eq!(info.config.num_replicas, 3, "{} is created with 3 replicas", def.name);
    }
    for (stream, durable) in bulk::REACTIONS {
        let info = eventually(ASYNC_TIMEOUT, || async {
            let stream = js.get_stream(stream).await.map_err(|e| e.to_string())?;
            let info = stream.consumer_info(durable).await.map_err(|e| e.to_string())?;
            if elected(&info.cluster) {
                Ok(info)
            } else {
                Err(format!("{durable}: {:?}", info.cluster))
            }
        })
        .await
        .unwrap_or_else(|e| panic!("{durable}: replicated on the three nodes like its stream: {e}"));
        assert_eq!(info.config.num_replicas, 0, "{durable}: created without its own replica count (inherits)");
    }
    let mut attendance = js.get_stream(streams::ATTENDANCE.name).await.unwrap();
    attendance.info().await.unwrap().cluster.clone().and_then(|c| c.leader).unwrap()
}

/// Runs a conference of [`SITES`] sites confirming and checking in; when half of them have
/// started, SIGKILLs node `victim` (by default the node leading the attendance stream). Checks that every acknowledged command
/// took effect exactly once and the conference completes; then starts the node again and waits until
/// it has caught up.
async fn lose_a_node_mid_flow(deployment: &mut Deployment, api: &Api, victim: Option<usize>) {
    let started = Instant::now();
    let js = async_nats::jetstream::new(api.nats().clone());
    let leader = check_replicas(&js).await;
    let sites = bulk::site_ids("cum", SITES);
    bulk::register_sites(api, &sites, 8).await.unwrap();
    let id = api.create(&bulk::conference("Hội nghị trực tuyến trên cụm ba nút", &sites)).await.unwrap().id;
    flow::invite(api, id).await.unwrap();

    let client = RetryingClient::new(api.clone(), Duration::from_secs(60));
    let load = PacedLoad::start(&client, id, &sites, PACE);
    load.wait_started(SITES / 2).await;
    let mut leaders = Vec::new();
    for def in streams::ALL {
        let mut stream = js.get_stream(def.name).await.unwrap();
        let info = stream.info().await.unwrap();
        leaders.push(format!("{}: {}", def.name, info.cluster.clone().and_then(|c| c.leader).unwrap_or_default()));
    }
    println!("cluster: stream leaders before the kill: {leaders:?}");
    let victim = victim.unwrap_or_else(|| NatsCluster::index_of(&leader).unwrap());
    deployment.cluster.kill(victim);
    let killed_at = started.elapsed();
    let sent = load.finish().await.unwrap();
    let counts = client.tally().counts();

    let killed = NatsCluster::name(victim);
    let new_leader = eventually(ASYNC_TIMEOUT, || async {
        let mut stream = js.get_stream(streams::ATTENDANCE.name).await.map_err(|e| e.to_string())?;
        let info = stream.info().await.map_err(|e| e.to_string())?;
        match info.cluster.clone().and_then(|c| c.leader) {
            Some(leader) if leader != killed => Ok(leader),
            other => Err(format!("leader {other:?}")),
        }
    })
    .await
    .unwrap();
    let all = bulk::read_events(&js, streams::ATTENDANCE.name, &events::conference_all(Service::Attendance, &id))
        .await
        .unwrap();
    let found = bulk::effects(&sent, &all);
    println!(
        "cluster: killed {killed} at {killed_at:.1?}, after {} of {SITES} sites had started; HOINGHI_ATTENDANCE \
         was led by {leader}, now by {new_leader}",
        SITES / 2
    );
    println!(
        "cluster: commands sent {}, acknowledged {}, retried {} ({} attempts), refused {}, gave up {}",
        counts.sent, counts.acknowledged, counts.retried, counts.attempts, counts.refused, counts.gave_up
    );
    println!("cluster: effects found {}, lost {}, doubled {}", found.found, found.lost.len(), found.doubled.len());
    assert_ne!(new_leader, killed, "a living node leads the stream");
    assert_eq!(found.lost, Vec::<String>::new(), "acknowledged commands without an event");
    assert_eq!(found.doubled, Vec::<String>::new(), "commands recorded twice");
    assert_eq!(found.strangers, Vec::<String>::new());
    assert_eq!(counts.acknowledged as usize, 2 * SITES, "every command acknowledged: {counts:?}");
    assert_eq!(found.found, 2 * SITES);

    // The conference goes on to its minutes on the two remaining nodes.
    let body = serde_json::to_vec(&ConferenceRef { conference_id: id }).unwrap();
    client.send(scheduling::START, &body, "cluster-start").await.unwrap();
    client.send(scheduling::END, &body, "cluster-end").await.unwrap();
    let roster = flow::wait_roster(api, id, RosterState::Closed).await.unwrap();
    assert_eq!((roster.counts.confirmed, roster.counts.checked_in), (SITES, SITES));
    let draft = flow::wait_draft_within(api, id, REDELIVERY_TIMEOUT).await.unwrap();
    assert_attendance_matches_roster(&draft, &roster);
    bulk::wait_reactions_idle(&js, REDELIVERY_TIMEOUT).await.unwrap();
    for s in Service::ALL {
        api.ping(s).await.unwrap_or_else(|e| panic!("{s} does not answer after the node died: {e}"));
    }
    for p in &mut deployment.services {
        assert!(p.is_running(), "{} is still running (it reconnected by itself)", p.service().name());
    }

    // The node comes back and catches up: every replica current again.
    deployment.cluster.start_node(victim).await.unwrap();
    eventually(Duration::from_secs(30), || async {
        for def in streams::ALL {
            let mut stream = js.get_stream(def.name).await.map_err(|e| e.to_string())?;
            let info = stream.info().await.map_err(|e| e.to_string())?;
            let cluster = info.cluster.clone().unwrap_or_default();
            let current = cluster.replicas.iter().filter(|p| p.current && !p.offline).count();
            if current != 2 {
                return Err(format!("{}: {cluster:?}", def.name));
            }
        }
        Ok(())
    })
    .await
    .unwrap();
    println!("cluster: {killed} rejoined and caught up; finished in {:.1?}", started.elapsed());
}

/// The services get the three node URLs, comma separated, as `HOINGHI__NATS__URL` documents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_node_cluster_loses_a_node_mid_flow_and_loses_nothing() {
    let (mut deployment, api) = deploy(NatsCluster::url_list).await;
    lose_a_node_mid_flow(&mut deployment, &api, None).await;
}

/// The services are told of one node only, and that node dies: they fail over to the nodes the
/// cluster told them about when they connected, with no operator action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_told_of_one_node_fail_over_to_the_others_when_it_dies() {
    let (mut deployment, api) = deploy(|cluster| cluster.url(0)).await;
    lose_a_node_mid_flow(&mut deployment, &api, Some(0)).await;
}

/// A revocation pushed to node 1 (as `hoinghi admin revoke` does) reaches the other nodes over the
/// system account: the identity's connection to node 3 is cut, and no node lets it in again; an
/// identity added meanwhile connects to any node at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_pushed_to_one_node_cuts_the_identity_on_the_others() {
    let cluster = NatsCluster::start().await.unwrap();
    let mut deployment = cluster.deployment().unwrap();
    deployment.add("site-ba-be").unwrap();
    for i in 0..3 {
        let added = cluster.connect_as("site-ba-be", i).await;
        assert!(added.is_ok(), "a new site connects to {} at once: {added:?}", NatsCluster::name(i));
    }
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let _on_node_3 = cluster
        .options(&cluster.creds("site-ba-be"))
        .await
        .unwrap()
        .custom_inbox_prefix("_INBOX.site-ba-be")
        .max_reconnects(Some(0))
        .event_callback(move |event| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(event);
            }
        })
        .connect(cluster.url(2))
        .await
        .unwrap();
    let kept = cluster.dir().join("kept.creds");
    std::fs::copy(cluster.creds("site-ba-be"), &kept).unwrap();
    let account = deployment.revoke("site-ba-be").unwrap();
    let system =
        hoinghi_credentials::push::connect_system(&cluster.url(0), &deployment.system_creds(), Some(&cluster.tls_ca()))
            .await
            .unwrap();
    let started = Instant::now();
    hoinghi_credentials::push::push_account(&system, &account).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), async {
        while !matches!(events.recv().await, Some(async_nats::Event::Disconnected) | None) {}
    })
    .await
    .expect("the connection to node 3 is cut");
    println!("cluster: revocation pushed to node 1 cut a connection on node 3 after {:?}", started.elapsed());
    for i in 0..3 {
        let refused = cluster
            .options(&kept)
            .await
            .unwrap()
            .max_reconnects(Some(0))
            .connection_timeout(Duration::from_secs(3))
            .connect(cluster.url(i))
            .await;
        assert!(refused.is_err(), "{} lets the revoked key in", NatsCluster::name(i));
    }
}
