//! A Rust client for a Python `multiprocessing.connection.Listener`.
//!
//! Start a Python echo server:
//!
//! ```text
//! python3 -c '
//! from multiprocessing.connection import Listener
//! with Listener(("127.0.0.1", 6000), authkey=b"secret") as listener:
//!     with listener.accept() as conn:
//!         while True:
//!             try: conn.send_bytes(conn.recv_bytes())
//!             except EOFError: break
//! '
//! ```
//!
//! then run `MPCORE_AUTHKEY=secret cargo run --example python_client -- 127.0.0.1:6000 hello`.
//!
//! Usage: `python_client ADDRESS [--sizes N,N,...] [MESSAGE...]`
//!
//! * `ADDRESS`: `host:port`, a socket path, or `@name` for a Linux abstract socket (Python's
//!   `'\0name'`).
//! * The authkey is `MPCORE_AUTHKEY` (its bytes as given) or `MPCORE_AUTHKEY_HEX`; with
//!   neither, no handshake is made.
//! * Each `MESSAGE` is sent and its echo printed; each `--sizes` entry sends a generated payload
//!   of that many bytes (byte `i` is `(i + size) % 251`) and checks the echo is identical.
//!
//! Exit status: 0 when every echo came back intact, 2 when authentication failed, 1 otherwise.

#[cfg(not(unix))]
fn main() {
    eprintln!("python_client: connections are implemented for POSIX systems only");
}

#[cfg(unix)]
fn main() -> std::process::ExitCode {
    client::main()
}

/// The client, on POSIX systems (where `mpcore`'s connections exist).
#[cfg(unix)]
mod client {
    use std::net::ToSocketAddrs;
    use std::process::ExitCode;

    use mpcore::{connect, Address, AuthKey, Error};

    pub fn main() -> ExitCode {
        match run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(Error::Auth(err)) => {
                println!("authentication failed: {err}");
                ExitCode::from(2)
            }
            Err(err) => {
                println!("error: {err}");
                ExitCode::from(1)
            }
        }
    }

    fn run() -> mpcore::Result<()> {
        let mut args = std::env::args().skip(1);
        let address = parse_address(&args.next().ok_or_else(|| usage("missing ADDRESS"))?)?;
        let mut texts = Vec::new();
        let mut sizes = Vec::new();
        while let Some(arg) = args.next() {
            if arg == "--sizes" {
                let list = args.next().ok_or_else(|| usage("--sizes needs a list"))?;
                for size in list.split(',') {
                    sizes.push(size.parse().map_err(|_| usage("--sizes takes numbers"))?);
                }
            } else {
                texts.push(arg);
            }
        }
        let authkey = authkey_from_env()?;

        println!(
            "connecting to {address} ({})",
            if authkey.is_some() {
                "with authkey"
            } else {
                "no authkey"
            }
        );
        let conn = connect(&address, authkey.as_ref())?;
        println!("connected");
        for text in &texts {
            conn.send_bytes(text.as_bytes())?;
            let echo = conn.recv_bytes(None)?;
            println!(
                "sent {text:?}, received {:?}",
                String::from_utf8_lossy(&echo)
            );
        }
        let mut intact = true;
        for &size in &sizes {
            let payload = pattern(size);
            conn.send_bytes(&payload)?;
            let echo = conn.recv_bytes(None)?;
            let same = echo == payload;
            intact &= same;
            println!(
                "sent {size} bytes, received {} bytes: {}",
                echo.len(),
                if same { "intact" } else { "DIFFERENT" }
            );
        }
        if intact {
            Ok(())
        } else {
            Err(Error::Os(std::io::Error::other(
                "an echo differed from what was sent",
            )))
        }
    }

    /// The payload of `size` bytes that the tests' Python peers also generate and check.
    fn pattern(size: usize) -> Vec<u8> {
        (0..size).map(|i| ((i + size) % 251) as u8).collect()
    }

    fn parse_address(text: &str) -> mpcore::Result<Address> {
        if let Some(name) = text.strip_prefix('@') {
            return Ok(Address::Abstract(name.as_bytes().to_vec()));
        }
        if text.contains('/') {
            return Ok(Address::Unix(text.into()));
        }
        let mut resolved = text.to_socket_addrs().map_err(Error::Os)?;
        resolved
            .next()
            .map(Address::Inet)
            .ok_or_else(|| usage("the host name did not resolve"))
    }

    fn authkey_from_env() -> mpcore::Result<Option<AuthKey>> {
        if let Some(key) = std::env::var_os("MPCORE_AUTHKEY") {
            use std::os::unix::ffi::OsStringExt;
            return Ok(Some(AuthKey::new(key.into_vec())));
        }
        let Ok(hex) = std::env::var("MPCORE_AUTHKEY_HEX") else {
            return Ok(None);
        };
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|b| u8::from_str_radix(b, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| usage("MPCORE_AUTHKEY_HEX is not hex"))?;
        Ok(Some(AuthKey::new(bytes)))
    }

    fn usage(problem: &str) -> Error {
        Error::Os(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{problem}; usage: python_client ADDRESS [--sizes N,N,...] [MESSAGE...]"),
        ))
    }
}
