//! The dashboard's server side over plain HTTP: signing in with a password, the session
//! cookie on the API (changing requests need the CSRF token), a job log's event stream and
//! its resumption with `Last-Event-ID`, and environments recorded by deploying jobs and
//! stopped through the API. The browser tests (tests/browser) drive the same pages in
//! Chromium.

use super::*;
use serde_json::json;

const PIPELINE: &str = r#"
deploy:
  script:
    - echo "first"
    - seq 1 3000
    - printf '\033[32mgreen\033[0m\n'
    - echo "last"
  environment:
    name: review/$CI_COMMIT_REF_SLUG
    url: https://$CI_COMMIT_REF_SLUG.review.example
    auto_stop_in: 1 week
"#;

/// Signs in through the form; the session cookie (`name=value`).
pub(super) fn sign_in(
    server: &Server,
    username: &str,
    password: &str,
    redirect: &str,
) -> (u16, Option<String>, String) {
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = client
        .post(format!("{}/users/sign_in", server.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([
                ("username", username),
                ("password", password),
                ("redirect", redirect),
            ])
            .expect("form"),
        )
        .send()
        .expect("sign in");
    let status = resp.status().as_u16();
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, cookie, location)
}

/// The `lines` events of a log stream: (id, number of shown lines), until `end`.
fn log_events(server: &Server, cookie: &str, path: &str, last_event: Option<&str>) -> Vec<(String, usize)> {
    let mut req = server
        .http
        .get(format!("{}{path}", server.url))
        .header("cookie", cookie);
    if let Some(id) = last_event {
        req = req.header("last-event-id", id);
    }
    let text = req.send().expect("stream").text().expect("body");
    assert!(
        text.contains("event: end"),
        "the stream ends once the job has: {text}"
    );
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let field = |name: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                .map(str::to_owned)
        };
        if field("event").as_deref() == Some("lines") {
            let data: Value = serde_json::from_str(&field("data").expect("data")).expect("json");
            let shown = data
                .as_array()
                .expect("lines")
                .iter()
                .filter(|l| l.get("n").is_some())
                .count();
            out.push((field("id").expect("an id to resume from"), shown));
        }
    }
    out
}

#[test]
fn sessions_log_streams_and_environments_serve_the_dashboard() {
    for database in databases() {
        let label = if database.is_some() { "postgres" } else { "sqlite" };
        println!("server: dashboard scenario on {label}");
        let data = tempfile::tempdir().expect("data dir");
        let server = Server::start(data.path(), database.as_deref());
        let (status, user) = server.post("users", json!({"username": "dev", "password": "short"}));
        assert_eq!(status, 400, "a short password is refused: {user}");
        let (status, user) = server.post(
            "users",
            json!({"username": "dev", "password": "dev-password-1", "admin": true}),
        );
        assert_eq!(status, 201, "{user}");

        // Signing in: a wrong password is refused; a right one sets the cookie and stays on
        // this server whatever the redirect says.
        let (status, cookie, _) = sign_in(&server, "dev", "wrong-password", "/");
        assert_eq!((status, cookie), (401, None));
        let (status, cookie, location) = sign_in(&server, "dev", "dev-password-1", "//evil.example/");
        assert_eq!((status, location.as_str()), (303, "/"));
        let cookie = cookie.expect("a session cookie");
        let page = server
            .http
            .get(format!("{}/", server.url))
            .header("cookie", &cookie)
            .send()
            .expect("projects page");
        assert_eq!(page.status().as_u16(), 200);
        let csp = page.headers().get("content-security-policy").cloned();
        let html = page.text().expect("html");
        assert!(csp.is_some_and(|v| v.to_str().unwrap_or_default().contains("default-src 'self'")));
        let csrf = html
            .split("name=\"csrf-token\" content=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("the page carries the CSRF token")
            .to_owned();

        // The cookie works on the API; a changing request needs the token too.
        let api = |method: reqwest::Method, path: &str, token: Option<&str>| {
            let mut req = server
                .http
                .request(method, format!("{}/api/v4/{path}", server.url))
                .header("cookie", &cookie)
                .json(&json!({"name": "site", "namespace": "web"}));
            if let Some(t) = token {
                req = req.header("x-csrf-token", t);
            }
            req.send().expect("api").status().as_u16()
        };
        assert_eq!(api(reqwest::Method::GET, "user", None), 200);
        assert_eq!(api(reqwest::Method::POST, "projects", None), 403, "no CSRF token");
        assert_eq!(
            api(reqwest::Method::POST, "projects", Some("wrong")),
            403,
            "a wrong CSRF token"
        );
        assert_eq!(api(reqwest::Method::POST, "projects", Some(&csrf)), 201);

        let remote = server.remote("web/site", TOKEN);
        let work = Work::new(&[(".gitlab-ci.yml", PIPELINE)]);
        work.git(&["push", "-q", &remote, "main"]);
        let pipeline = server.finished_pipeline("web%2Fsite", "main", 0);
        assert_eq!(pipeline["status"], "success", "{pipeline}");
        let jobs = server.jobs("web%2Fsite", pipeline["id"].as_i64().expect("id"));
        let job = job_named(&jobs, "deploy")["id"].as_i64().expect("job id");

        // The log stream, and its resumption after the first event.
        let path = format!("/web/site/-/jobs/{job}/trace.sse");
        let events = log_events(&server, &cookie, &path, None);
        let total: usize = events.iter().map(|(_, n)| n).sum();
        assert!(total >= 3005 && events.len() >= 2, "{events:?}");
        let trace_len = server.trace("web%2Fsite", job).len();
        assert_eq!(
            events.last().map(|(id, _)| id.clone()),
            Some(trace_len.to_string())
        );
        let resumed = log_events(&server, &cookie, &path, Some(&events[0].0));
        assert_eq!(resumed.iter().map(|(_, n)| n).sum::<usize>(), total - events[0].1);
        let at_end = log_events(&server, &cookie, &path, Some(&trace_len.to_string()));
        assert!(
            at_end.iter().all(|(_, n)| *n == 0),
            "nothing is sent twice: {at_end:?}"
        );
        let anonymous = server
            .http
            .get(format!("{}{path}", server.url))
            .send()
            .expect("anonymous");
        assert!(
            anonymous.url().path().starts_with("/users/sign_in"),
            "an anonymous viewer is sent to sign in: {}",
            anonymous.url()
        );

        // The deploying job recorded its environment and deployment; stopping it without an
        // on_stop job stops it at once.
        let envs = server.get("projects/web%2Fsite/environments");
        let env = &envs[0];
        assert_eq!(env["name"], "review/main", "{envs}");
        assert_eq!(env["external_url"], "https://main.review.example");
        assert_eq!(env["state"], "available");
        assert!(
            env["auto_stop_at"].is_string(),
            "auto_stop_in starts its clock: {env}"
        );
        assert_eq!(env["last_deployment"]["status"], "success");
        assert_eq!(env["last_deployment"]["deployable"]["id"], job);
        let (status, stopped) = server.post(
            &format!("projects/web%2Fsite/environments/{}/stop", env["id"]),
            json!({}),
        );
        assert_eq!(
            (status, stopped["state"].as_str()),
            (200, Some("stopped")),
            "{stopped}"
        );
        let deployments = server.get("projects/web%2Fsite/deployments");
        assert_eq!(
            deployments[0]["environment"]["name"], "review/main",
            "{deployments}"
        );
        assert_eq!(deployments[0]["iid"], 1);
    }
}

/// A sign-in POST with extra headers and form fields: (status, full `Set-Cookie`, location).
fn sign_in_with(server: &Server, form: &[(&str, &str)], headers: &[(&str, &str)]) -> (u16, String, String) {
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut req = client
        .post(format!("{}/users/sign_in", server.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).expect("form"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().expect("sign in");
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    (resp.status().as_u16(), header("set-cookie"), header("location"))
}

#[test]
fn sign_in_and_sessions_refuse_what_would_harm_the_user() {
    let data = tempfile::tempdir().expect("data dir");
    let server = Server::start(data.path(), None);
    let (status, user) = server.post("users", json!({"username": "dev", "password": "dev-password-1"}));
    assert_eq!(status, 201, "{user}");
    let creds = [("username", "dev"), ("password", "dev-password-1")];

    // A redirect browsers would read as another host (they drop the tab) stays here.
    let mut form = creds.to_vec();
    form.push(("redirect", "/\t/evil.example/"));
    let (status, _, location) = sign_in_with(&server, &form, &[]);
    assert_eq!((status, location.as_str()), (303, "/"));

    // Another site's page cannot sign the browser in (login CSRF); this site's form can.
    let (status, cookie, _) = sign_in_with(&server, &creds, &[("sec-fetch-site", "cross-site")]);
    assert_eq!((status, cookie.as_str()), (403, ""));
    let (status, cookie, _) = sign_in_with(&server, &creds, &[("sec-fetch-site", "same-origin")]);
    assert_eq!(status, 303);
    assert!(
        cookie.contains("Max-Age=604800"),
        "a password session lasts a week: {cookie}"
    );

    // A session opened with a token that expires tomorrow ends with it, not a week later.
    let tomorrow = String::from_utf8(
        std::process::Command::new("date")
            .args(["-u", "-d", "tomorrow", "+%F"])
            .output()
            .expect("date")
            .stdout,
    )
    .expect("utf-8");
    let (status, token) = server.post(
        &format!("users/{}/personal_access_tokens", user["id"]),
        json!({"name": "short", "scopes": ["api"], "expires_at": tomorrow.trim()}),
    );
    assert_eq!(status, 201, "{token}");
    let (status, cookie, _) = sign_in_with(
        &server,
        &[("token", token["token"].as_str().expect("token"))],
        &[],
    );
    assert_eq!(status, 303);
    let max_age: i64 = cookie
        .split("Max-Age=")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a Max-Age: {cookie}"));
    assert!(max_age > 0 && max_age <= 2 * 86_400, "{cookie}");

    // Signing out ends the live streams the session opened.
    let (status, _) = server.post(
        "projects",
        json!({"name": "site", "namespace": "web", "visibility": "internal"}),
    );
    assert_eq!(status, 201);
    let (_, cookie, _) = sign_in_with(&server, &creds, &[]);
    let session = cookie.split(';').next().expect("name=value").to_owned();
    let page = server
        .http
        .get(format!("{}/web/site/-/pipelines", server.url))
        .header("cookie", &session)
        .send()
        .expect("page")
        .text()
        .expect("html");
    let csrf = page
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("csrf")
        .to_owned();
    let stream = server
        .http
        .get(format!("{}/web/site/-/pipelines/live", server.url))
        .header("cookie", &session)
        .send()
        .expect("stream");
    assert_eq!(stream.status().as_u16(), 200);
    let signed_out = server
        .http
        .post(format!("{}/users/sign_out", server.url))
        .header("cookie", &session)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string([("csrf", csrf.as_str())]).expect("form"))
        .send()
        .expect("sign out");
    assert!(signed_out.status().is_success() || signed_out.status().is_redirection());
    // The stream's next look (a change or its periodic refresh) finds no session: it says
    // `gone` and ends, so reading it to the end returns.
    let rest = stream.text().expect("the stream ends");
    assert!(rest.contains("event: gone"), "{rest}");
}
