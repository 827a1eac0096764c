//! The container registry with real clients: `podman push/pull` and `skopeo copy/inspect`
//! round-trip an image with identical digests through the Docker token flow, a mount copies
//! it to another repository, and bad input over plain HTTP gets the spec's error codes with
//! nothing half-written left visible. Without podman and skopeo the test is skipped with
//! the reason, except in CI, where it must run.

use super::*;
use serde_json::json;

/// Whether `tool --version` runs.
fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A command's output, asserting it succeeded.
/// Runs `cmd`, which must succeed; its output.
pub(super) fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A local base image made from the host's busybox (no registry can be reached here).
pub(super) fn busybox_image() -> &'static str {
    const IMAGE: &str = "localhost/gantry-test-busybox:latest";
    let exists = Command::new("podman")
        .args(["image", "exists", IMAGE])
        .status()
        .is_ok_and(|s| s.success());
    if !exists {
        let root = tempfile::tempdir().expect("rootfs");
        let bin = root.path().join("bin");
        std::fs::create_dir_all(&bin).expect("bin");
        let busybox = ["/bin/busybox", "/usr/bin/busybox"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("busybox (apt busybox-static)");
        std::fs::copy(busybox, bin.join("busybox")).expect("copy busybox");
        for tool in [
            "sh", "echo", "cat", "ls", "env", "sleep", "wget", "nc", "true", "test", "grep",
        ] {
            std::os::unix::fs::symlink("busybox", bin.join(tool)).expect("link");
        }
        let tar = root.path().join("rootfs.tar");
        run(Command::new("tar")
            .arg("-C")
            .arg(root.path())
            .args(["-cf"])
            .arg(&tar)
            .args(["bin"]));
        run(Command::new("podman").arg("import").arg(&tar).arg(IMAGE));
    }
    IMAGE
}

fn registry_tools() -> bool {
    let missing: Vec<&str> = ["podman", "skopeo"].into_iter().filter(|t| !have(t)).collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "registry test cannot run in CI without {missing:?} (scripts/install-peers.sh installs them)"
    );
    println!("registry: skipped: {missing:?} not installed");
    false
}

#[test]
fn podman_and_skopeo_round_trip_images_with_identical_digests() {
    if !registry_tools() {
        return;
    }
    let data = tempfile::tempdir().expect("data dir");
    let scratch = tempfile::tempdir().expect("scratch");
    let server = Server::start(data.path(), None);
    for (ns, name) in [("conf", "app"), ("conf", "other")] {
        let (status, body) = server.post("projects", json!({"name": name, "namespace": ns}));
        assert_eq!(status, 201, "{body}");
    }
    let host = server.url.trim_start_matches("http://").to_owned();
    let creds = format!("root:{TOKEN}");
    let image = format!("{host}/conf/app/busybox:v1");

    // podman pushes through the token flow; the digest it wrote is the registry's.
    let digest_file = scratch.path().join("digest");
    run(Command::new("podman")
        .args(["push", "--tls-verify=false", "--creds", &creds, "--digestfile"])
        .arg(&digest_file)
        .args([busybox_image(), &image]));
    let pushed = std::fs::read_to_string(&digest_file).expect("digest file");
    let inspected: Value = serde_json::from_str(&run(Command::new("skopeo").args([
        "inspect",
        "--tls-verify=false",
        "--creds",
        &creds,
        &format!("docker://{image}"),
    ])))
    .expect("json");
    assert_eq!(inspected["Digest"], pushed.trim(), "{inspected}");

    // skopeo copies it out, byte for byte: the manifest's digest is the pushed one.
    let out = scratch.path().join("copy");
    run(Command::new("skopeo")
        .args(["copy", "--src-tls-verify=false", "--src-creds", &creds])
        .arg(format!("docker://{image}"))
        .arg(format!("dir:{}", out.display())));
    let manifest = std::fs::read(out.join("manifest.json")).expect("manifest");
    let local = format!("sha256:{}", hex_sha256(&manifest));
    assert_eq!(local, pushed.trim());

    // Copied to another project's repository (its blobs mounted, not sent again), and
    // pulled back with podman under the same digest.
    let other = format!("{host}/conf/other/busybox:copied");
    run(Command::new("skopeo").args([
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        "--src-creds",
        &creds,
        "--dest-creds",
        &creds,
        &format!("docker://{image}"),
        &format!("docker://{other}"),
    ]));
    run(Command::new("podman").args(["pull", "-q", "--tls-verify=false", "--creds", &creds, &other]));
    let pulled =
        run(Command::new("podman").args(["image", "inspect", "--format", "{{.RepoDigests}}", &other]));
    assert!(
        pulled.contains(&format!("{host}/conf/other/busybox@{}", pushed.trim())),
        "{pulled}"
    );
    let tags = server
        .http
        .get(format!("{}/v2/conf/other/busybox/tags/list", server.url))
        .basic_auth("root", Some(TOKEN))
        .send()
        .expect("tags")
        .json::<Value>()
        .expect("json");
    assert_eq!(tags, json!({"name": "conf/other/busybox", "tags": ["copied"]}));

    // Nobody else pulls from a private project; a user without access is refused too.
    let anonymous = Command::new("skopeo")
        .args([
            "inspect",
            "--tls-verify=false",
            "--no-creds",
            &format!("docker://{image}"),
        ])
        .output()
        .expect("skopeo");
    assert!(!anonymous.status.success());
    let (status, _) = server.post(
        "users",
        json!({"username": "outsider", "password": "outsider-pass-1"}),
    );
    assert_eq!(status, 201);
    let outsider = Command::new("skopeo")
        .args([
            "inspect",
            "--tls-verify=false",
            "--creds",
            "outsider:outsider-pass-1",
            &format!("docker://{image}"),
        ])
        .output()
        .expect("skopeo");
    assert!(
        !outsider.status.success(),
        "an outsider must not pull a private project's image"
    );
    let _ = Command::new("podman").args(["rmi", "-f", &other]).output();
}

/// A GET written on a TCP stream as given (no path normalisation): status and body.
fn raw_get(server: &Server, path: &str, token: &str) -> (u16, String) {
    use std::io::Write;
    let host = server.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A registry token for `scope` from the token endpoint, with Basic credentials.
fn registry_token(server: &Server, user: &str, password: &str, scope: &str) -> String {
    let body: Value = server
        .http
        .get(format!(
            "{}/jwt/auth?{}",
            server.url,
            serde_urlencoded::to_string([("service", "container_registry"), ("scope", scope)])
                .expect("query")
        ))
        .basic_auth(user, Some(password))
        .send()
        .expect("token")
        .json()
        .expect("json");
    body["token"].as_str().expect("a token").to_owned()
}

/// The spec's error code of a response.
fn code(resp: reqwest::blocking::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().unwrap_or(Value::Null);
    (
        status,
        body["errors"][0]["code"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn bad_registry_input_gets_the_spec_errors_and_leaves_nothing_visible() {
    let data = tempfile::tempdir().expect("data dir");
    let server = Server::start(data.path(), None);
    for (ns, name) in [("conf", "app"), ("conf", "secret")] {
        let (status, body) = server.post("projects", json!({"name": name, "namespace": ns}));
        assert_eq!(status, 201, "{body}");
    }
    let token = registry_token(&server, "root", TOKEN, "repository:conf/app:pull,push,delete");
    let v2 = |path: &str| format!("{}/v2/{path}", server.url);
    let http = &server.http;
    let blob = b"layer bytes".to_vec();
    let digest = format!("sha256:{}", hex_sha256(&blob));

    // A monolithic upload whose bytes are not the digest given: refused, and not there.
    let wrong = format!("sha256:{}", hex_sha256(b"other"));
    let resp = http
        .post(v2(&format!("conf/app/blobs/uploads/?digest={wrong}")))
        .bearer_auth(&token)
        .body(blob.clone())
        .send()
        .expect("upload");
    assert_eq!(code(resp), (400, "DIGEST_INVALID".into()));
    let head = http
        .head(v2(&format!("conf/app/blobs/{wrong}")))
        .bearer_auth(&token)
        .send()
        .expect("head");
    assert_eq!(head.status().as_u16(), 404);

    // A chunked upload: a chunk out of order is a 416 with the range so far; the upload
    // then goes on and finishes with the right digest.
    let started = http
        .post(v2("conf/app/blobs/uploads/"))
        .bearer_auth(&token)
        .send()
        .expect("start");
    assert_eq!(started.status().as_u16(), 202);
    let location = started.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let at = |loc: &str| format!("{}{loc}", server.url);
    let first = http
        .patch(at(&location))
        .bearer_auth(&token)
        .header("content-range", "0-4")
        .header("content-type", "application/octet-stream")
        .body(blob[..5].to_vec())
        .send()
        .expect("chunk");
    assert_eq!(first.status().as_u16(), 202);
    assert_eq!(first.headers()["range"], "0-4");
    let location = first.headers()["location"].to_str().expect("location").to_owned();
    let skipped = http
        .patch(at(&location))
        .bearer_auth(&token)
        .header("content-range", "7-10")
        .body(blob[7..].to_vec())
        .send()
        .expect("chunk");
    assert_eq!(skipped.status().as_u16(), 416);
    assert_eq!(skipped.headers()["range"], "0-4");
    let done = http
        .put(format!("{}{location}?digest={digest}", server.url))
        .bearer_auth(&token)
        .body(blob[5..].to_vec())
        .send()
        .expect("finish");
    assert_eq!(done.status().as_u16(), 201);
    assert_eq!(done.headers()["docker-content-digest"], digest.as_str());

    // Manifests naming a missing blob, of an unknown media type, or too big: refused, and
    // the tag they were pushed to does not appear.
    let config = format!("sha256:{}", hex_sha256(b"{}"));
    let manifest = |config: &str, layer: &str| {
        json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": blob.len()}]
        })
        .to_string()
    };
    let put = |tag: &str, content_type: &str, body: String| {
        http.put(v2(&format!("conf/app/manifests/{tag}")))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .expect("manifest")
    };
    let oci = "application/vnd.oci.image.manifest.v1+json";
    assert_eq!(
        code(put("broken", oci, manifest(&config, &digest))),
        (400, "MANIFEST_BLOB_UNKNOWN".into())
    );
    assert_eq!(
        code(put(
            "odd",
            "application/vnd.example.thing",
            manifest(&config, &digest)
        )),
        (400, "MANIFEST_INVALID".into())
    );
    let huge = format!(
        "{{\"schemaVersion\":2,\"annotations\":{{\"x\":\"{}\"}}}}",
        "a".repeat(5 << 20)
    );
    // Refused before the whole body was read: a client of its own, so that the connection
    // the server closes is not reused.
    let huge_status = reqwest::blocking::Client::new()
        .put(v2("conf/app/manifests/huge"))
        .bearer_auth(&token)
        .header("content-type", oci)
        .body(huge)
        .send()
        .map(|r| r.status().as_u16());
    assert!(matches!(huge_status, Ok(413) | Err(_)), "{huge_status:?}");
    let tags: Value = http
        .get(v2("conf/app/tags/list"))
        .bearer_auth(&token)
        .send()
        .expect("tags")
        .json()
        .expect("json");
    assert_eq!(tags["tags"], json!([]), "no half-written tag: {tags}");

    // With its config there, the manifest goes in; by digest too, and a wrong digest fails.
    let cfg = http
        .post(v2(&format!("conf/app/blobs/uploads/?digest={config}")))
        .bearer_auth(&token)
        .body("{}")
        .send()
        .expect("config");
    assert_eq!(cfg.status().as_u16(), 201);
    let body = manifest(&config, &digest);
    let ok = put("v1", oci, body.clone());
    assert_eq!(ok.status().as_u16(), 201);
    let m_digest = format!("sha256:{}", hex_sha256(body.as_bytes()));
    assert_eq!(ok.headers()["docker-content-digest"], m_digest.as_str());
    assert_eq!(
        code(put(&wrong, oci, body.clone())),
        (400, "DIGEST_INVALID".into())
    );
    let got = http
        .get(v2("conf/app/manifests/v1"))
        .bearer_auth(&token)
        .send()
        .expect("get");
    assert_eq!(got.headers()["content-type"], oci);
    assert_eq!(got.text().expect("body"), body, "served byte for byte");

    // Names the spec forbids (`..`, uppercase) are NAME_INVALID. HTTP clients resolve `..`
    // before sending, so this request is written by hand.
    for bad in ["conf/app/../x", "conf/App"] {
        let (status, body) = raw_get(&server, &format!("/v2/{bad}/tags/list"), &token);
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body.contains("NAME_INVALID"), "{bad}: {body}");
    }

    // A token for one project does not open another: the client is sent to ask again.
    let resp = http
        .get(v2("conf/secret/tags/list"))
        .bearer_auth(&token)
        .send()
        .expect("get");
    assert_eq!(resp.status().as_u16(), 401);
    let challenge = resp.headers()["www-authenticate"]
        .to_str()
        .expect("challenge")
        .to_owned();
    assert!(
        challenge.contains("scope=\"repository:conf/secret:pull\""),
        "{challenge}"
    );
    let resp = http
        .get(v2("conf/app/tags/list"))
        .bearer_auth("not.a.token")
        .send()
        .expect("get");
    assert_eq!(resp.status().as_u16(), 401);

    // A repository stays its project's: a project created later under its path (by a user
    // who may create projects anywhere) does not open it.
    let tools = registry_token(&server, "root", TOKEN, "repository:conf/app/tools:pull,push");
    let resp = http
        .post(v2(&format!("conf/app/tools/blobs/uploads/?digest={digest}")))
        .bearer_auth(&tools)
        .body(blob.clone())
        .send()
        .expect("upload");
    assert_eq!(resp.status().as_u16(), 201);
    let (status, outsider) = server.post(
        "users",
        json!({"username": "outsider", "password": "outsider-pass-1"}),
    );
    assert_eq!(status, 201, "{outsider}");
    let (status, pat) = server.post(
        &format!("users/{}/personal_access_tokens", outsider["id"]),
        json!({"name": "t", "scopes": ["api"]}),
    );
    assert_eq!(status, 201, "{pat}");
    let pat = pat["token"].as_str().expect("token").to_owned();
    let (status, _) = server.call(
        reqwest::Method::POST,
        "projects",
        Some(json!({"name": "tools", "namespace": "conf/app"})),
        &pat,
    );
    assert_eq!(status, 201);
    let stolen = http
        .get(v2(&format!("conf/app/tools/blobs/{digest}")))
        .basic_auth("outsider", Some(&pat))
        .send()
        .expect("get");
    assert_eq!(code(stolen), (403, "DENIED".into()));
    let theirs = registry_token(&server, "outsider", &pat, "repository:conf/app/tools:pull,push");
    let stolen = http
        .get(v2(&format!("conf/app/tools/blobs/{digest}")))
        .bearer_auth(&theirs)
        .send()
        .expect("get");
    assert_eq!(stolen.status().as_u16(), 401, "the token grants nothing there");

    // The catalog is not opened by asking for it: only administrators' tokens list it.
    let anonymous_catalog: Value = http
        .get(format!(
            "{}/jwt/auth?service=container_registry&scope=registry:catalog:*",
            server.url
        ))
        .send()
        .expect("token")
        .json()
        .expect("json");
    let anon = anonymous_catalog["token"].as_str().expect("token");
    let listed: Value = http
        .get(v2("_catalog"))
        .bearer_auth(anon)
        .send()
        .expect("catalog")
        .json()
        .expect("json");
    assert_eq!(listed["repositories"], json!([]), "{listed}");
    let admin = registry_token(&server, "root", TOKEN, "registry:catalog:*");
    let listed: Value = http
        .get(v2("_catalog"))
        .bearer_auth(&admin)
        .send()
        .expect("catalog")
        .json()
        .expect("json");
    assert_eq!(
        listed["repositories"],
        json!(["conf/app", "conf/app/tools"]),
        "{listed}"
    );

    // Deleting the manifest removes its tag; the blob is deleted from the repository.
    let del = http
        .delete(v2(&format!("conf/app/manifests/{m_digest}")))
        .bearer_auth(&token)
        .send()
        .expect("delete");
    assert_eq!(del.status().as_u16(), 202);
    let gone = http
        .get(v2("conf/app/manifests/v1"))
        .bearer_auth(&token)
        .send()
        .expect("get");
    assert_eq!(code(gone), (404, "MANIFEST_UNKNOWN".into()));
    let del = http
        .delete(v2(&format!("conf/app/blobs/{digest}")))
        .bearer_auth(&token)
        .send()
        .expect("delete");
    assert_eq!(del.status().as_u16(), 202);
    let gone = http
        .get(v2(&format!("conf/app/blobs/{digest}")))
        .bearer_auth(&token)
        .send()
        .expect("get");
    assert_eq!(code(gone), (404, "BLOB_UNKNOWN".into()));
}
