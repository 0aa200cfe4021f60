// fake-prefect: serves FakePrefect until SIGTERM or SIGINT.
#include <csignal>
#include <iostream>

#include "tests/fakes/command_line.hpp"
#include "tests/fakes/fake_prefect.hpp"

int main(int argc, char** argv) {
  using namespace lifeline::fake_prefect;
  std::string error;
  auto cl = parse_command_line(std::vector<std::string>(argv + 1, argv + argc), error);
  if (!cl) {
    std::cerr << "fake-prefect: " << error << "\n" << usage();
    return 2;
  }
  if (cl->help) {
    std::cout << usage();
    return 0;
  }
  // Block the stop signals before any thread starts, so that only sigwait() sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  FakePrefect fake(cl->options);
  if (auto started = fake.start(); !started) {
    std::cerr << "fake-prefect: " << started.error << "\n";
    return 1;
  }
  std::cout << "listening on " << cl->options.host << ":" << fake.port() << std::endl;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  fake.stop();
  return 0;
}
