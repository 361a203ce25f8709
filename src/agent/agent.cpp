// SPDX-License-Identifier: MIT
// agent/agent.cpp - accept loop, one server process per connection.
#include "agent/agent.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include "agent/lxc_proxy.h"
#include "agent/receive.h"
#include "base/errno_name.h"
#include "base/log.h"

namespace extsys::agent {
namespace {

spdlog::logger& logger() {
  return log::app();
}

Status setUpLogging(const std::string& logFile) {
  return logFile.empty() ? log::toStderr("agent") : log::toFile(logFile, "agent");
}

Result<sockaddr_un> unixAddress(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a.sun_path)
    return Error(ENAMETOOLONG, "socket path '" + path + "' is empty or longer than " +
                                   std::to_string(sizeof a.sun_path - 1) + " bytes");
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

// A socket file left by an agent that died is replaced; a live agent is not.
Status removeStaleSocket(const std::string& path, const sockaddr_un& addr, int type) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0)
    return errno == ENOENT ? okStatus() : Error::fromErrno(errno, "stat " + path);
  if (!S_ISSOCK(st.st_mode))
    return Error(EEXIST, path + " exists and is not a socket");
  UniqueFd probe(socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!probe.valid())
    return Error::fromErrno(errno, "socket(AF_UNIX)");
  if (connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0)
    return Error(EADDRINUSE, "another agent is listening on " + path);
  // EPROTOTYPE: a live socket of the other type (the OCI one at the LXC
  // path or back): not ours to remove either.
  if (errno == EPROTOTYPE)
    return Error(EADDRINUSE, "a socket of another type is listening on " + path);
  if (errno != ECONNREFUSED)
    return Error::fromErrno(errno, "connect " + path);
  if (unlink(path.c_str()) != 0)
    return Error::fromErrno(errno, "unlink stale socket " + path);
  logger().info("replaced stale socket {}", path);
  return okStatus();
}

struct BoundSocket {
  UniqueFd fd;
  dev_t dev = 0;
  ino_t ino = 0;
};

Result<BoundSocket> bindSocket(const std::string& path, int type) {
  auto addr = unixAddress(path);
  if (!addr)
    return std::move(addr).error();
  // The directory (e.g. /run/extsys) is created if it is missing: one level.
  const auto slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    const std::string dir = path.substr(0, slash);
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
      return Error::fromErrno(errno, "mkdir " + dir);
  }
  if (auto st = removeStaleSocket(path, *addr, type); !st)
    return std::move(st).error();
  BoundSocket b;
  b.fd.reset(socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!b.fd.valid())
    return Error::fromErrno(errno, "socket(AF_UNIX)");
  // Owner only: whoever can connect can make the agent serve a listener.
  const mode_t old = umask(0177);
  int rc = bind(b.fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr);
  const int err = errno;
  umask(old);
  if (rc != 0)
    return Error::fromErrno(err, "bind " + path);
  if (listen(b.fd.get(), 128) != 0)
    return Error::fromErrno(errno, "listen " + path);
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) {
    b.dev = st.st_dev;
    b.ino = st.st_ino;
  }
  return b;
}

// Removes the socket file only if it is still the one we created.
void unlinkOurSocket(const std::string& path, const BoundSocket& b) {
  struct stat st {};
  if (!path.empty() && stat(path.c_str(), &st) == 0 && st.st_dev == b.dev && st.st_ino == b.ino)
    unlink(path.c_str());
}

std::string describeStatus(int status) {
  if (WIFEXITED(status))
    return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return std::string("killed by ") + sigabbrev_np(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// The per-connection server process of an OCI runtime; returns its exit
// status.
int serveConnection(UniqueFd conn, const ucred& peer, const AgentOptions& o) {
  auto got = receiveContainerState(
      conn.get(), {o.stateTimeout, o.maxStateBytes, static_cast<size_t>(o.maxFdsPerConnection)});
  conn.reset();  // runtimes never read: nothing to answer on it
  if (!got && got.error().err() == ENODATA) {
    logger().debug("connection from pid {}: {}", peer.pid, got.error().message());
    return 0;
  }
  if (!got) {
    logger().error("connection from pid {} (uid {}): {}", peer.pid, peer.uid,
                   got.error().message());
    return 1;
  }
  const ContainerProcessState& s = got->state;
  const std::string comm = ("extsys:" + s.id).substr(0, 15);
  prctl(PR_SET_NAME, comm.c_str(), 0, 0, 0);
  logger().debug("container {}: state {}", s.id, got->raw);
  // One connection per container process: the init ("creating"), or an exec.
  const std::string who = "container " + s.id + (s.status == "creating" ? " init" : " exec") +
                          " (pid " + std::to_string(s.pid) + ")";

  auto reject = [&](const Error& e) {
    logger().error("{}: {}; the listener is closed, so its notified calls fail with ENOSYS", who,
                   e.message());
    return 1;
  };
  auto md = parseAgentMetadata(s.metadata);
  if (!md)
    return reject(md.error());
  auto effective = o.resolvePolicy(md->policy);
  if (!effective)
    return reject(effective.error());
  const std::string policyName = effective->name;
  auto sup = supervisor::Supervisor::create(std::move(*effective), o.supervisor);
  if (!sup)
    return reject(sup.error());
  logger().info("{}: serving with policy {} (runtime pid {}, spec {}, metadata '{}')", who,
                policyName, peer.pid, s.ociVersion, s.metadata);

  if (auto st = (*sup)->serve(std::move(got->listener)); !st) {
    logger().error("{}: {}", who, st.error().message());
    return 1;
  }
  const auto& c = (*sup)->counters();
  logger().info(
      "{}: no task left; probes answered {}, rejected {}, faulted {}, gone {}, "
      "unwritable {}; calls allowed {}, denied {}; {} worker(s)",
      who, c.answered, c.rejected, c.faulted, c.gone, c.unwritable, c.allowed, c.denied,
      (*sup)->workersStarted());
  return 0;
}

}  // namespace

// By hand rather than libsystemd's sd_listen_fds() and sd_is_socket_unix():
// extsys is linked -static (start-up time, see meson.build), and Debian 12's
// libsystemd-dev ships only libsystemd.so, no libsystemd.a. Linking it
// would make the whole binary dynamic for these twenty lines, which follow
// the documented protocol (sd_listen_fds(3)): LISTEN_PID is us, LISTEN_FDS
// counts the fds from 3 (SD_LISTEN_FDS_START).
Result<ActivatedSockets> socketsFromSystemd() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  if (pid == nullptr || fds == nullptr || std::atol(pid) != static_cast<long>(getpid()))
    return ActivatedSockets{};
  const std::string count = fds;
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  if (count != "1" && count != "2")
    return Error(EINVAL, "socket activation passed " + count +
                             " sockets; extsys agent takes one or two (ListenStream=PATH for "
                             "OCI runtimes, ListenSequentialPacket=PATH for LXC)");
  ActivatedSockets out;
  for (int fd = 3; fd < 3 + std::stoi(count); ++fd) {  // SD_LISTEN_FDS_START
    int type = 0, domain = 0, listening = 0;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
      return Error::fromErrno(errno, "socket activation: fd " + std::to_string(fd));
    len = sizeof domain;
    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len);
    len = sizeof listening;
    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
    int& slot = type == SOCK_STREAM ? out.oci : out.lxc;
    if ((type != SOCK_STREAM && type != SOCK_SEQPACKET) || domain != AF_UNIX || !listening ||
        slot >= 0)
      return Error(EINVAL, "socket activation: fd " + std::to_string(fd) +
                               " is not a listening AF_UNIX socket of a type not yet passed "
                               "(use ListenStream=/absolute/path for OCI runtimes and "
                               "ListenSequentialPacket=/absolute/path for LXC in the .socket "
                               "unit)");
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    slot = fd;
  }
  return out;
}

namespace {

struct Listening {
  BoundSocket oci, lxc;               // fd -1: not served
  std::string ociBound, lxcBound;     // paths we bound (to unlink at the end)
};

// The listening sockets: the ones systemd passed where no path is given,
// else bound at the paths.
Result<Listening> openListeningSockets(const AgentOptions& o) {
  Listening l;
  auto activated = socketsFromSystemd();
  if (!activated)
    return std::move(activated).error();
  auto openOne = [&](const std::string& path, int passed, int type, const char* what,
                  BoundSocket& into, std::string& bound) -> Status {
    if (path.empty()) {
      if (passed >= 0) {
        into.fd.reset(passed);
        logger().info("listening on the socket systemd passed ({})", what);
      }
      return okStatus();
    }
    if (passed >= 0)
      close(passed);  // a path was given: it wins
    auto b = bindSocket(path, type);
    if (!b)
      return std::move(b).error();
    into = std::move(*b);
    bound = path;
    logger().info("listening on {} ({})", path, what);
    return okStatus();
  };
  if (o.serveOci) {
    if (auto st = openOne(o.socketPath, activated->oci, SOCK_STREAM, "OCI runtimes", l.oci,
                       l.ociBound);
        !st)
      return std::move(st).error();
  } else if (activated->oci >= 0) {
    close(activated->oci);
  }
  if (auto st = openOne(o.lxcSocketPath, activated->lxc, SOCK_SEQPACKET, "LXC", l.lxc, l.lxcBound);
      !st)
    return std::move(st).error();
  if (!l.oci.fd.valid() && !l.lxc.fd.valid())
    return Error(EINVAL, "no --socket or --lxc-socket given and not socket-activated "
                         "(LISTEN_FDS)");
  return l;
}

// Reads every pending signal: true on SIGTERM or SIGINT. Reaps servers.
bool handleSignals(int sigfd, std::set<pid_t>& servers) {
  bool stop = false;
  signalfd_siginfo si{};
  while (read(sigfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
      stop = true;
    else if (si.ssi_signo == SIGHUP)
      logger().info(
          "SIGHUP: nothing to reload (each container's policy is read when it "
          "connects)");
  }
  int ws = 0;
  for (pid_t pid; (pid = waitpid(-1, &ws, WNOHANG)) > 0;) {
    servers.erase(pid);
    logger().debug("server {} ended: {}", pid, describeStatus(ws));
  }
  return stop;
}

// Accepts one connection (on the LXC socket if `lxc`) and forks its
// server; returns the server's pid, or -1 when there was none (a transient
// accept error, fork failed, or `running` servers are already the most
// allowed: the connection is closed).
pid_t acceptAndFork(Listening& sockets, bool lxc, UniqueFd& sigfd, const AgentOptions& o,
                    const sigset_t& original, size_t running) {
  BoundSocket& sock = lxc ? sockets.lxc : sockets.oci;
  UniqueFd conn(accept4(sock.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn.valid()) {
    const int err = errno;
    if (err == EINTR || err == EAGAIN || err == ECONNABORTED)
      return -1;
    logger().error("accept: {}", errnoDescribe(err));
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM)
      usleep(100 * 1000);  // do not spin while out of resources
    return -1;
  }
  ucred peer{};
  socklen_t len = sizeof peer;
  getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &peer, &len);
  if (running >= static_cast<size_t>(o.maxConnections)) {
    // Closed unread: the runtime's container runs, its notified calls get
    // ENOSYS (no CHECK_FIELDS; restricted calls fail closed).
    logger().error(
        "connection from pid {} (uid {}) refused: {} connections are being served, the most "
        "allowed (--max-connections); its listener is closed, so its notified calls fail with "
        "ENOSYS",
        peer.pid, peer.uid, running);
    return -1;
  }
  const pid_t child = fork();
  if (child < 0) {
    logger().error(
        "fork for a connection from pid {}: {}; the runtime's container start "
        "fails or its notified calls get ENOSYS",
        peer.pid, errnoDescribe(errno));
    return -1;
  }
  if (child == 0) {
    sockets.oci.fd.reset();
    sockets.lxc.fd.reset();
    sigfd.reset();
    // Its own process group: a Ctrl-C meant for the accept loop does not
    // take running containers' servers with it.
    setpgid(0, 0);
    sigprocmask(SIG_SETMASK, &original, nullptr);
    (void)setUpLogging(o.logFile);
    const int code = lxc ? lxc::serveLxcConnection(std::move(conn), peer, o)
                         : serveConnection(std::move(conn), peer, o);
    std::fflush(nullptr);
    _exit(code);
  }
  logger().debug("{} connection from pid {} (uid {}): server {}", lxc ? "LXC" : "OCI", peer.pid,
                 peer.uid, child);
  return child;
}

}  // namespace

int run(const AgentOptions& o) {
  if (auto st = setUpLogging(o.logFile); !st) {
    std::fprintf(stderr, "extsys: %s\n", st.error().message().c_str());
    return 1;
  }
  auto opened = openListeningSockets(o);
  if (!opened) {
    logger().error("{}", opened.error().message());
    return 1;
  }
  Listening sockets = std::move(*opened);

  // A log pipe that went away must not kill the agent or its servers.
  signal(SIGPIPE, SIG_IGN);
  sigset_t handled, original;
  sigemptyset(&handled);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP})
    sigaddset(&handled, s);
  sigprocmask(SIG_BLOCK, &handled, &original);
  UniqueFd sigfd(signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sigfd.valid()) {
    logger().error("signalfd: {}", errnoDescribe(errno));
    return 1;
  }

  std::set<pid_t> servers;
  bool stopping = false;
  int status = 0;
  while (!stopping) {
    // A socket not served has fd -1, which poll() ignores.
    pollfd p[3] = {{sigfd.get(), POLLIN, 0},
                   {sockets.oci.fd.get(), POLLIN, 0},
                   {sockets.lxc.fd.get(), POLLIN, 0}};
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR)
        continue;
      logger().error("poll: {}", errnoDescribe(errno));
      status = 1;
      break;
    }
    if (p[0].revents & POLLIN)
      stopping = handleSignals(sigfd.get(), servers);
    for (int i : {1, 2}) {
      if (stopping || !(p[i].revents & POLLIN))
        continue;
      if (const pid_t server =
              acceptAndFork(sockets, i == 2, sigfd, o, original, servers.size());
          server > 0)
        servers.insert(server);
    }
  }

  sockets.oci.fd.reset();
  sockets.lxc.fd.reset();
  unlinkOurSocket(sockets.ociBound, sockets.oci);
  unlinkOurSocket(sockets.lxcBound, sockets.lxc);
  sigprocmask(SIG_SETMASK, &original, nullptr);
  logger().info(
      "stopped accepting; {} container server(s) keep serving until their "
      "containers exit",
      servers.size());
  return status;
}

}  // namespace extsys::agent
