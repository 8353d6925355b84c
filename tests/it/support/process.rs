//! `asc-publish sim` as a child process: spawn it, read its one JSON line, mint tokens for the
//! key it announced, and stop it with SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running `asc-publish sim` and what it announced.
pub struct SimProcess {
    pub child: Child,
    pub announced: Value,
    /// Kept open so the child never writes into a closed pipe.
    pub _stdout: BufReader<ChildStdout>,
}

impl SimProcess {
    pub fn spawn(args: &[&str]) -> SimProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
            .arg("sim")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn asc-publish sim");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("first stdout line");
        let announced: Value =
            serde_json::from_str(line.trim_end()).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
        SimProcess {
            child,
            announced,
            _stdout: stdout,
        }
    }

    pub fn api_url(&self) -> &str {
        self.announced["api_url"].as_str().expect("api_url")
    }

    pub fn token(&self) -> String {
        let pem = std::fs::read_to_string(self.announced["private_key_path"].as_str().expect("path")).expect("key");
        super::mint(
            &pem,
            self.announced["key_id"].as_str().expect("key_id"),
            &super::team_claims(self.announced["issuer_id"].as_str().expect("issuer_id")),
        )
    }

    /// GETs `path` (starting with `/v1/`) and returns (status, JSON body).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let resp = super::client()
            .get(format!("{}{path}", self.api_url()))
            .bearer_auth(self.token())
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// SIGTERM, then waits (bounded) for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("sim did not exit on SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
