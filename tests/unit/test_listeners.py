"""MSK's listener table against botocore's GetBootstrapBrokers shape and MSK's ports."""

from __future__ import annotations

import botocore.session

from reconciler.clients.session import pick_bootstrap
from reconciler.core.listeners import BY_PORT, LISTENERS, client_listeners


def test_every_bootstrap_string_msk_returns_has_one_listener() -> None:
    model = botocore.session.get_session().get_service_model("kafka")
    shape = model.operation_model("GetBootstrapBrokers").output_shape
    assert shape is not None
    members = set(shape.members)
    assert {listener.member for listener in LISTENERS} == members
    assert len({listener.name for listener in LISTENERS}) == len(LISTENERS)


def test_ports_are_msks_and_outputs_are_the_aws_providers_names() -> None:
    assert {p: BY_PORT[p].name for p in (9092, 9094, 9096, 9098, 9194, 9196, 9198)} == {
        9092: "plaintext",
        9094: "tls",
        9096: "sasl_scram",
        9098: "sasl_iam",
        9194: "public_tls",
        9196: "public_sasl_scram",
        9198: "public_sasl_iam",
    }
    assert [x.output for x in LISTENERS[:3]] == [
        "bootstrap_brokers",
        "bootstrap_brokers_tls",
        "bootstrap_brokers_sasl_scram",
    ]


def test_a_client_takes_the_private_listener_of_its_protocol_before_the_public_one() -> None:
    assert [x.name for x in client_listeners("SSL", None)] == ["tls", "public_tls"]
    assert [x.name for x in client_listeners("SASL_SSL", "SCRAM-SHA-512")] == [
        "sasl_scram",
        "public_sasl_scram",
    ]
    public = {"BootstrapBrokerStringPublicTls": "b-1.public:9194"}
    assert pick_bootstrap(public, "SSL", None) == "b-1.public:9194"
    both = {**public, "BootstrapBrokerStringTls": "b-1:9094"}
    assert pick_bootstrap(both, "SSL", None) == "b-1:9094"
    assert pick_bootstrap({"BootstrapBrokerStringSaslIam": "b-1:9098"}, "SASL_SSL", "PLAIN") is None
