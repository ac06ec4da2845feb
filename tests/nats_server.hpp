// Real nats-server processes for the JetStream tests (no mock): each NatsServer runs
// `nats-server -js` on a loopback port it picks, with its own temporary store directory, and is
// stopped by its pid when the object dies (also when the test fails). NatsCluster runs three of
// them as a JetStream cluster. A missing nats-server binary fails the test naming the package.
#pragma once
#include "log_test_util.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace sessionring::test {

/// The nats-server binary, or "" when it is not installed.
inline std::string nats_server_binary() {
#ifdef SESSIONRING_NATS_SERVER
  if (std::filesystem::exists(SESSIONRING_NATS_SERVER)) return SESSIONRING_NATS_SERVER;
#endif
  for (const char* p : {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"})
    if (std::filesystem::exists(p)) return p;
  return "";
}

/// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's choice for port 0).
inline int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

inline bool port_accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

class NatsServer {
 public:
  struct Cluster {
    std::string name;
    std::string server_name;
    int cluster_port = 0;
    std::vector<int> routes;  // the other nodes' cluster ports
  };

  /// Picks a client port and starts the server; ADD_FAILURE (and running() false) when it
  /// cannot (nats-server not installed: the message names the Debian package).
  NatsServer() : NatsServer(std::nullopt) {}
  explicit NatsServer(std::optional<Cluster> cluster) : cluster_(std::move(cluster)) {
    port_ = free_loopback_port();
    start();
  }
  ~NatsServer() { stop(); }
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& store_dir() const { return dir_.path(); }

  /// Starts the server again on the same port and store directory (after stop() or kill()).
  void start() {
    const std::string bin = nats_server_binary();
    if (bin.empty()) {
      ADD_FAILURE() << "nats-server is not installed: install the Debian package 'nats-server' "
                       "(apt-get install nats-server), or run ./run.sh test which installs it";
      return;
    }
    std::vector<std::string> args{bin, "-js", "-a", "127.0.0.1", "-p", std::to_string(port_), "-sd",
                                  (dir_.path() / "js").string(), "-l", (dir_.path() / "server.log").string()};
    if (cluster_) {
      std::string routes;
      for (int r : cluster_->routes) routes += (routes.empty() ? "" : ",") + std::string("nats://127.0.0.1:") + std::to_string(r);
      for (const std::string& a : {std::string("-n"), cluster_->server_name, std::string("--cluster_name"), cluster_->name,
                                   std::string("--cluster"), "nats://127.0.0.1:" + std::to_string(cluster_->cluster_port),
                                   std::string("--routes"), routes})
        args.push_back(a);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (::posix_spawn(&pid, bin.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
      ADD_FAILURE() << "cannot start " << bin;
      return;
    }
    pid_ = pid;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!port_accepts(port_)) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        ADD_FAILURE() << "nats-server exited at start (port " << port_ << "); log: " << (dir_.path() / "server.log");
        return;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "nats-server does not accept connections on port " << port_;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  /// SIGSTOP, returning once the process is stopped (state T): a hung server, connections open.
  void pause() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGSTOP);
    const std::string stat = "/proc/" + std::to_string(pid_) + "/stat";
    for (int i = 0; i < 1000; ++i) {
      std::ifstream f(stat);
      std::string line;
      std::getline(f, line);
      const auto paren = line.rfind(')');
      if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'T') return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ADD_FAILURE() << "nats-server " << pid_ << " did not stop";
  }
  void resume() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
  }

  /// SIGTERM (a clean shutdown: JetStream flushes its files) and wait for the process.
  void stop() { signal_and_wait(SIGTERM); }
  /// SIGKILL: the server dies at once (its page cache survives: the machine did not crash).
  void kill() { signal_and_wait(SIGKILL); }

 private:
  void signal_and_wait(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::optional<Cluster> cluster_;
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

/// Three servers forming the JetStream cluster `name` on loopback.
class NatsCluster {
 public:
  explicit NatsCluster(const std::string& name = "sr") {
    std::vector<int> cports{free_loopback_port(), free_loopback_port(), free_loopback_port()};
    for (int i = 0; i < 3; ++i) {
      NatsServer::Cluster c{name, name + "-n" + std::to_string(i), cports[i], {}};
      for (int j = 0; j < 3; ++j)
        if (j != i) c.routes.push_back(cports[j]);
      nodes_.push_back(std::make_unique<NatsServer>(c));
    }
  }
  NatsServer& node(std::size_t i) { return *nodes_[i]; }
  std::size_t size() const { return nodes_.size(); }
  /// Every node's URL, comma-separated: the client fails over between them.
  std::string urls() const {
    std::string u;
    for (const auto& n : nodes_) u += (u.empty() ? "" : ",") + n->url();
    return u;
  }
  bool running() const {
    for (const auto& n : nodes_)
      if (!n->running()) return false;
    return true;
  }

 private:
  std::vector<std::unique_ptr<NatsServer>> nodes_;
};

}  // namespace sessionring::test
