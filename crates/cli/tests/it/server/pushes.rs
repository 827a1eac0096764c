//! Bad pushes: over the size limit, abandoned halfway, odd ref names, two clients racing.

use super::*;
use serde_json::json;
use std::io::Read;

/// A push that stops sending halfway: it promises a body of a megabyte, sends 4 KiB and
/// goes away.
fn abandoned_push(server: &Server, path: &str) {
    struct Breaks(usize);
    impl Read for Breaks {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 >= 4096 {
                return Err(std::io::Error::other("the client went away"));
            }
            let n = buf.len().min(4096 - self.0);
            buf[..n].fill(b'0');
            self.0 += n;
            Ok(n)
        }
    }
    let sent = server
        .http
        .post(format!("{}/{path}.git/git-receive-pack", server.url))
        .basic_auth("root", Some(TOKEN))
        .header("Content-Type", "application/x-git-receive-pack-request")
        .body(reqwest::blocking::Body::sized(Breaks(0), 1_000_000))
        .send();
    assert!(sent.is_err(), "the broken body was sent whole: {sent:?}");
}

#[test]
fn bad_pushes_get_clear_errors_and_leave_the_repository_consistent() {
    let data = tempfile::tempdir().expect("data dir");
    let server = Server::start_with(data.path(), None, &["--max-push-bytes", "300000"]);
    let (status, project) = server.post("projects", json!({"name": "edge", "namespace": "team"}));
    assert_eq!(status, 201, "{project}");
    let id = "team%2Fedge";
    let remote = server.remote("team/edge", TOKEN);
    let work = Work::new(&[(
        ".gitlab-ci.yml",
        "job:\n  script: [echo \"ref is $CI_COMMIT_REF_NAME\"]\n",
    )]);
    work.git(&["push", "-q", &remote, "main"]);
    let first = server.finished_pipeline(id, "main", 0);
    assert_eq!(first["status"], "success", "{first}");
    let main_head = remote_head(&work, &remote, "main").expect("main");

    // A push over the size limit is refused by git with its own words; nothing lands.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let noise: String = (0..2_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect();
    work.git(&["checkout", "-q", "-b", "big"]);
    work.commit(&[("blob.txt", &noise)], "big");
    let (ok, err) = push(&work, &remote, &["big"]);
    assert!(!ok, "a push over the limit was accepted");
    assert!(err.contains("exceeds maximum allowed size"), "{err}");
    assert_eq!(remote_head(&work, &remote, "big"), None);
    work.git(&["checkout", "-q", "main"]);

    // A client that goes away mid-push changes nothing and holds no lock.
    abandoned_push(&server, "team/edge");
    assert_eq!(remote_head(&work, &remote, "main"), Some(main_head.clone()));

    // A branch name with odd (but valid) characters keeps them all, in git and in CI.
    let odd = "feature/ünï-çødé+x@1";
    let (ok, err) = push(&work, &remote, &[&format!("main:{odd}")]);
    assert!(ok, "{err}");
    let odd_pipeline = server.wait_for("the odd branch's pipeline", |s| {
        let p = pipelines_of(s, id, odd).first()?.clone();
        (p["status"] == "success").then_some(p)
    });
    assert_eq!(odd_pipeline["ref"], odd);
    let jobs = server.jobs(id, odd_pipeline["id"].as_i64().expect("id"));
    let log = server.trace(id, job_named(&jobs, "job")["id"].as_i64().expect("job id"));
    assert!(log.contains(&format!("ref is {odd}")), "{log}");

    // Two clients race to create one branch: one wins, the other is told to fetch first,
    // and exactly one pipeline runs for it.
    let racers: Vec<Work> = (0..2)
        .map(|i| {
            let w = Work::clone_of(&remote);
            w.commit(&[("racer.txt", &format!("racer {i}\n"))], &format!("racer {i}"));
            w
        })
        .collect();
    let results: Vec<(bool, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = racers
            .iter()
            .map(|w| {
                let remote = remote.clone();
                scope.spawn(move || push(w, &remote, &["HEAD:race"]))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("push thread"))
            .collect()
    });
    let winners: Vec<usize> = (0..2).filter(|&i| results[i].0).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let loser = 1 - winners[0];
    assert!(
        results[loser].1.contains("fetch first") || results[loser].1.contains("rejected"),
        "{}",
        results[loser].1
    );
    let winner_head = String::from_utf8_lossy(&racers[winners[0]].run_git(&["rev-parse", "HEAD"]).stdout)
        .trim()
        .to_owned();
    assert_eq!(remote_head(&work, &remote, "race"), Some(winner_head.clone()));
    let race = server.finished_pipeline(id, "race", 0);
    assert_eq!(race["sha"], winner_head.as_str());
    assert_eq!(pipelines_of(&server, id, "race").len(), 1);
    assert_eq!(
        pipelines_of(&server, id, "big").len(),
        0,
        "the refused push ran nothing"
    );
}
