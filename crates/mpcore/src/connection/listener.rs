//! `Listener` and `Client` of `multiprocessing.connection` on sockets: AF_INET, and AF_UNIX by
//! path or (on Linux) by abstract name, with the optional authentication handshake.
//!
//! std's socket types do the binding and connecting; `accept` is our own so that a signal
//! reaches the caller instead of being retried inside std.

use std::fmt;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;

use super::{fd, Connection};
use crate::auth::{answer_challenge, deliver_challenge, AuthKey, Dialect};
use crate::error::{Error, Result};

/// Where a [`Listener`] listens and a client connects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// A TCP address: Python's `(host, port)` tuple, family `AF_INET`.
    Inet(SocketAddr),
    /// A Unix socket file: Python's `str` address, family `AF_UNIX`. A peer that connected
    /// from an unnamed socket has an empty path.
    Unix(PathBuf),
    /// A Linux abstract socket name, *without* the leading NUL that Python's address has.
    Abstract(Vec<u8>),
}

impl Address {
    /// The AF_UNIX address Python writes as `name`: abstract if it starts with a NUL byte,
    /// a file path otherwise.
    pub fn unix(name: impl AsRef<[u8]>) -> Self {
        use std::os::unix::ffi::OsStrExt;
        match name.as_ref() {
            [0, rest @ ..] => Address::Abstract(rest.to_vec()),
            path => Address::Unix(std::ffi::OsStr::from_bytes(path).into()),
        }
    }

    fn from_unix(addr: &std::os::unix::net::SocketAddr) -> Self {
        #[cfg(abstract_sockets)]
        if let Some(name) = abstract_name(addr) {
            return Address::Abstract(name.to_vec());
        }
        Address::Unix(addr.as_pathname().map(PathBuf::from).unwrap_or_default())
    }
}

/// Python's spelling: `host:port`, the path, or the abstract name after `\0`.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Inet(addr) => write!(f, "{addr}"),
            Address::Unix(path) => write!(f, "{}", path.display()),
            Address::Abstract(name) => write!(f, "\\0{}", name.escape_ascii()),
        }
    }
}

#[cfg(target_os = "android")]
use std::os::android::net::SocketAddrExt;
#[cfg(target_os = "linux")]
use std::os::linux::net::SocketAddrExt;

#[cfg(abstract_sockets)]
fn abstract_name(addr: &std::os::unix::net::SocketAddr) -> Option<&[u8]> {
    addr.as_abstract_name()
}

#[cfg(abstract_sockets)]
fn abstract_addr(name: &[u8]) -> Result<std::os::unix::net::SocketAddr> {
    std::os::unix::net::SocketAddr::from_abstract_name(name).map_err(Error::from_os)
}

#[cfg(not(abstract_sockets))]
fn abstract_addr(_name: &[u8]) -> Result<std::os::unix::net::SocketAddr> {
    Err(Error::Os(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "abstract socket names exist only on Linux",
    )))
}

/// A listening socket that hands out authenticated [`Connection`]s:
/// `multiprocessing.connection.Listener`.
///
/// The socket file of a path address is removed when the listener is dropped.
///
/// ```
/// use mpcore::{connect, Address, AuthKey, Listener};
///
/// let key = AuthKey::new(b"secret".to_vec());
/// let mut listener = Listener::bind(&Address::Inet("127.0.0.1:0".parse()?), 1, Some(key.clone()))?;
/// let address = listener.address().clone();
/// let client = std::thread::spawn(move || -> mpcore::Result<Vec<u8>> {
///     connect(&address, Some(&key))?.recv_bytes(None)
/// });
/// listener.accept()?.send_bytes(b"hello")?;
/// assert_eq!(client.join().unwrap()?, b"hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Listener {
    socket: OwnedFd,
    address: Address,
    authkey: Option<AuthKey>,
    dialect: Dialect,
    last_accepted: Option<Address>,
}

impl Listener {
    /// Binds `address` and listens with `backlog`, with `SO_REUSEADDR` for TCP (std sets it) and
    /// close-on-exec. With an `authkey`, every accepted connection must pass the handshake, even
    /// an empty key (CPython 3.13's rule; 3.11 and 3.12 skip the handshake for `b''`).
    pub fn bind(address: &Address, backlog: i32, authkey: Option<AuthKey>) -> Result<Self> {
        let (socket, address) = match address {
            Address::Inet(addr) => {
                let listener = TcpListener::bind(addr).map_err(Error::from_os)?;
                let local = listener.local_addr().map_err(Error::from_os)?;
                (OwnedFd::from(listener), Address::Inet(local))
            }
            Address::Unix(path) => {
                let listener = UnixListener::bind(path).map_err(Error::from_os)?;
                (OwnedFd::from(listener), Address::Unix(path.clone()))
            }
            Address::Abstract(name) => {
                let listener =
                    UnixListener::bind_addr(&abstract_addr(name)?).map_err(Error::from_os)?;
                (OwnedFd::from(listener), Address::Abstract(name.clone()))
            }
        };
        // From here on, dropping the listener removes a socket file.
        let listener = Listener {
            socket,
            address,
            authkey,
            dialect: Dialect::default(),
            last_accepted: None,
        };
        fd::listen(listener.socket.as_fd(), backlog).map_err(Error::from_os)?;
        Ok(listener)
    }

    /// The dialect this listener speaks: modern `{sha256}` challenges by default (CPython
    /// 3.12+); [`Dialect::Legacy`] behaves as a CPython ≤ 3.11 listener, in its challenges and
    /// its answers.
    #[must_use]
    pub fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// The address it listens on; for TCP port 0, the port the system chose.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The peer address of the last connection accepted (even if its handshake then failed).
    pub fn last_accepted(&self) -> Option<&Address> {
        self.last_accepted.as_ref()
    }

    /// Waits for a connection and, with an authkey, runs the handshake: deliver a challenge,
    /// then answer the client's. A peer with the wrong key fails with an [`Error::Auth`].
    ///
    /// A signal while waiting fails with [`Error::Interrupted`]; call again. A signal during
    /// the handshake abandons that connection.
    pub fn accept(&mut self) -> Result<Connection> {
        let stream = fd::accept(self.socket.as_fd()).map_err(Error::from_os)?;
        let (stream, peer) = self.peer_address(stream)?;
        self.last_accepted = Some(peer);
        let conn = Connection::new(stream, true, true)?;
        if let Some(key) = &self.authkey {
            deliver_challenge(&conn, key, self.dialect)?;
            answer_challenge(&conn, key, self.dialect)?;
        }
        Ok(conn)
    }

    fn peer_address(&self, stream: OwnedFd) -> Result<(OwnedFd, Address)> {
        if let Address::Inet(_) = self.address {
            let stream = TcpStream::from(stream);
            let peer = stream.peer_addr().map_err(Error::from_os)?;
            Ok((stream.into(), Address::Inet(peer)))
        } else {
            let stream = UnixStream::from(stream);
            let peer = stream.peer_addr().map_err(Error::from_os)?;
            Ok((stream.into(), Address::from_unix(&peer)))
        }
    }

    /// Stops listening (and removes a socket file), as dropping does.
    pub fn close(self) {}
}

impl AsRawFd for Listener {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Address::Unix(path) = &self.address {
            // Nothing useful can be done if the file is already gone.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Connects to a listener and, with an `authkey`, runs the handshake in the default (modern)
/// dialect: answer its challenge, then deliver one. `multiprocessing.connection.Client`.
#[doc(alias = "Client")]
pub fn connect(address: &Address, authkey: Option<&AuthKey>) -> Result<Connection> {
    connect_with_dialect(address, authkey, Dialect::default())
}

/// [`connect`], speaking `dialect` in both halves of the handshake (`Legacy` behaves as a
/// CPython ≤ 3.11 client).
pub fn connect_with_dialect(
    address: &Address,
    authkey: Option<&AuthKey>,
    dialect: Dialect,
) -> Result<Connection> {
    let stream: OwnedFd = match address {
        Address::Inet(addr) => TcpStream::connect(addr).map_err(Error::from_os)?.into(),
        Address::Unix(path) => UnixStream::connect(path).map_err(Error::from_os)?.into(),
        Address::Abstract(name) => UnixStream::connect_addr(&abstract_addr(name)?)
            .map_err(Error::from_os)?
            .into(),
    };
    let conn = Connection::new(stream, true, true)?;
    if let Some(key) = authkey {
        answer_challenge(&conn, key, dialect)?;
        deliver_challenge(&conn, key, dialect)?;
    }
    Ok(conn)
}
