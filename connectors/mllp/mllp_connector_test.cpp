// MllpConnector: the engine's view of the MLLP source.

#include <boost/test/unit_test.hpp>

#include "connectors/mllp/mllp_client.h"
#include "connectors/mllp/mllp_connector.h"
#include "connectors/mllp/mllp_test_util.h"

namespace fhirbridge::mllp {

BOOST_AUTO_TEST_SUITE(mllp_connector)

BOOST_AUTO_TEST_CASE(start_receive_stop) {
  testing::RecordingIntake intake;
  MllpConnectorOptions options;
  options.name = "icu";
  options.server.port = 0;
  MllpConnector connector(options);
  BOOST_TEST(connector.name() == "icu");
  BOOST_TEST(!connector.Running());
  BOOST_REQUIRE(connector.Start(intake).ok());
  BOOST_TEST(connector.Running());
  BOOST_TEST(connector.port() != 0);
  BOOST_TEST(!connector.Start(intake).ok());  // once

  MllpClientOptions client_options;
  client_options.port = connector.port();
  auto client = MllpClient::Connect(client_options);
  BOOST_REQUIRE(client.ok());
  auto ack = (*client)->Exchange(testing::Oru("C1"));
  BOOST_REQUIRE(ack.ok());
  BOOST_TEST(testing::AckField(*ack, 1, 1) == "AA");
  BOOST_REQUIRE(intake.accepted().size() == 1u);
  BOOST_TEST(intake.accepted()[0].source == "icu");
  BOOST_TEST(connector.hl7v2_stats().stored == 1u);
  BOOST_TEST(connector.server_stats().frames == 1u);

  connector.Stop();
  BOOST_TEST(!connector.Running());
  BOOST_TEST(connector.hl7v2_stats().acks_positive == 1u);
}

BOOST_AUTO_TEST_CASE(a_port_in_use_is_reported_with_the_source_name) {
  testing::RecordingIntake intake;
  MllpConnectorOptions first_options;
  first_options.server.port = 0;
  MllpConnector first(first_options);
  BOOST_REQUIRE(first.Start(intake).ok());
  MllpConnectorOptions options;
  options.name = "ward";
  options.server.port = first.port();
  MllpConnector second(options);
  const Status s = second.Start(intake);
  BOOST_TEST(s.IsUnavailable());
  BOOST_TEST(s.message().find("source ward") != std::string::npos, s.message());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace fhirbridge::mllp
