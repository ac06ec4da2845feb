#include "nats_server.hpp"
#include <sessionring/jet_stream_store.hpp>
namespace sessionring::test { TEST(JetStreamStore, placeholder) {} }
