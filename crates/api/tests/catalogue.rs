//! Guards the public catalogue: the descriptor set served by reflection holds
//! `helpdesk.v1.CommandService` with one RPC per command, plus
//! `Execute`, and every request follows the conventions.

use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FileDescriptorSet, ServiceDescriptorProto};

const COMMANDS: &[&str] = &[
    "RegisterAgent",
    "ChangeAgentRole",
    "GoOnline",
    "GoOffline",
    "PauseAgent",
    "ResumeAgent",
    "DeactivateAgent",
    "CreateDepartment",
    "UpdateDepartment",
    "AddAgentToDepartment",
    "RemoveAgentFromDepartment",
    "CreateTicket",
    "AssignTicket",
    "UnassignTicket",
    "TransferTicket",
    "AnswerTicket",
    "RecordCustomerReply",
    "TagTicket",
    "UntagTicket",
    "ResolveTicket",
    "ReopenTicket",
    "DeleteTicket",
    "StartChat",
    "OfferChat",
    "AcceptChat",
    "MissChat",
    "AnswerChat",
    "RecordChatCustomerMessage",
    "EndChat",
    "IncomingCall",
    "RingCall",
    "AnswerCall",
    "MissCall",
    "EndCall",
    "RateConversation",
    "RetractRating",
    "DefineLevel",
    "UpdateLevel",
    "RemoveLevel",
    "ReorderLevels",
    "CustomizeBadge",
    "DefineBadge",
    "RemoveBadge",
    "DefineRoutingRule",
    "RemoveRoutingRule",
    "UpdateRoutingRule",
    "DefineRole",
    "UpdateRole",
    "RemoveRole",
    "SetOrganizationSettings",
];

fn descriptors() -> FileDescriptorSet {
    FileDescriptorSet::decode(helpdesk_api::FILE_DESCRIPTOR_SET).expect("valid descriptor set")
}

fn command_service(fds: &FileDescriptorSet) -> &ServiceDescriptorProto {
    fds.file
        .iter()
        .filter(|f| f.package() == "helpdesk.v1")
        .flat_map(|f| &f.service)
        .find(|s| s.name() == "CommandService")
        .expect("helpdesk.v1.CommandService in the descriptor set")
}

fn message<'a>(fds: &'a FileDescriptorSet, full_name: &str) -> &'a DescriptorProto {
    let name = full_name
        .strip_prefix(".helpdesk.v1.")
        .unwrap_or_else(|| panic!("{full_name} is not in helpdesk.v1"));
    fds.file
        .iter()
        .filter(|f| f.package() == "helpdesk.v1")
        .flat_map(|f| &f.message_type)
        .find(|m| m.name() == name)
        .unwrap_or_else(|| panic!("message {full_name} not found"))
}

fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn command_service_has_every_command_and_execute() {
    let fds = descriptors();
    let service = command_service(&fds);
    let names: Vec<&str> = service.method.iter().map(|m| m.name()).collect();
    for command in COMMANDS {
        let method = service
            .method
            .iter()
            .find(|m| m.name() == *command)
            .unwrap_or_else(|| panic!("rpc {command} missing from CommandService"));
        assert_eq!(
            method.input_type(),
            format!(".helpdesk.v1.{command}Request")
        );
        assert_eq!(method.output_type(), ".helpdesk.v1.CommandResponse");
        assert!(
            !method.client_streaming() && !method.server_streaming(),
            "{command} is unary"
        );
    }
    let execute = service
        .method
        .iter()
        .find(|m| m.name() == "Execute")
        .expect("rpc Execute");
    assert!(execute.client_streaming() && execute.server_streaming());
    assert_eq!(execute.input_type(), ".helpdesk.v1.ExecuteRequest");
    assert_eq!(execute.output_type(), ".helpdesk.v1.ExecuteResponse");
    assert_eq!(
        names.len(),
        COMMANDS.len() + 1,
        "unexpected RPCs: {names:?}"
    );
}

#[test]
fn every_request_starts_with_command_id_and_occurred_at() {
    let fds = descriptors();
    for command in COMMANDS {
        let request = message(&fds, &format!(".helpdesk.v1.{command}Request"));
        let field = |number: i32| {
            request
                .field
                .iter()
                .find(|f| f.number() == number)
                .unwrap_or_else(|| panic!("{command}Request has no field {number}"))
        };
        let command_id = field(1);
        assert_eq!(command_id.name(), "command_id", "{command}");
        assert_eq!(command_id.r#type(), Type::String, "{command}");
        let occurred_at = field(2);
        assert_eq!(occurred_at.name(), "occurred_at", "{command}");
        assert_eq!(
            occurred_at.type_name(),
            ".google.protobuf.Timestamp",
            "{command}"
        );
    }
}

#[test]
fn execute_request_has_a_oneof_over_every_request() {
    let fds = descriptors();
    let execute = message(&fds, ".helpdesk.v1.ExecuteRequest");
    assert_eq!(execute.oneof_decl.len(), 1);
    assert_eq!(execute.oneof_decl[0].name(), "command");
    assert_eq!(execute.field.len(), COMMANDS.len());
    for command in COMMANDS {
        let field = execute
            .field
            .iter()
            .find(|f| f.type_name() == format!(".helpdesk.v1.{command}Request"))
            .unwrap_or_else(|| panic!("ExecuteRequest has no {command}Request"));
        assert_eq!(field.name(), snake_case(command));
        assert_eq!(field.oneof_index, Some(0));
        assert_eq!(field.label(), Label::Optional);
    }
}

#[test]
fn responses_have_the_documented_shape() {
    let fds = descriptors();
    let names = |m: &DescriptorProto| {
        m.field
            .iter()
            .map(|f| f.name().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(message(&fds, ".helpdesk.v1.CommandResponse")),
        [
            "command_id",
            "events",
            "position",
            "duplicate",
            "aggregate_id"
        ]
    );
    assert_eq!(
        names(message(&fds, ".helpdesk.v1.ExecuteResponse")),
        ["index", "response", "error"]
    );
    assert_eq!(
        names(message(&fds, ".helpdesk.v1.CommandError")),
        ["code", "message", "field"]
    );
}

#[test]
fn enums_start_with_unspecified_and_everything_is_documented() {
    let fds = descriptors();
    for file in fds.file.iter().filter(|f| f.package() == "helpdesk.v1") {
        for e in &file.enum_type {
            let first = &e.value[0];
            assert_eq!(first.number(), 0);
            assert!(first.name().ends_with("_UNSPECIFIED"), "{}", e.name());
        }
        // Every location that names a message, field, enum, value, service or
        // method carries a leading comment (they show in reflection).
        let info = file.source_code_info.as_ref().expect("source info kept");
        let documented = |path: &[i32]| {
            info.location
                .iter()
                .any(|l| l.path == path && !l.leading_comments().trim().is_empty())
        };
        for (i, m) in file.message_type.iter().enumerate() {
            let path = [4, i as i32];
            assert!(documented(&path), "message {} undocumented", m.name());
            for (j, f) in m.field.iter().enumerate() {
                assert!(
                    documented(&[4, i as i32, 2, j as i32]),
                    "field {}.{} undocumented",
                    m.name(),
                    f.name()
                );
            }
        }
        for (i, e) in file.enum_type.iter().enumerate() {
            assert!(documented(&[5, i as i32]), "enum {} undocumented", e.name());
            for (j, v) in e.value.iter().enumerate() {
                assert!(
                    documented(&[5, i as i32, 2, j as i32]),
                    "value {} undocumented",
                    v.name()
                );
            }
        }
        for (i, s) in file.service.iter().enumerate() {
            assert!(
                documented(&[6, i as i32]),
                "service {} undocumented",
                s.name()
            );
            for (j, m) in s.method.iter().enumerate() {
                assert!(
                    documented(&[6, i as i32, 2, j as i32]),
                    "rpc {} undocumented",
                    m.name()
                );
            }
        }
    }
}

#[test]
fn generated_types_are_reachable() {
    // Compile-time check of the public paths.
    let _ = helpdesk_api::pb::CreateTicketRequest::default();
    let _ = helpdesk_api::pb::execute_request::Command::CreateTicket(Default::default());
    fn _client(_: helpdesk_api::CommandServiceClient<tonic::transport::Channel>) {}
    fn _server<S: helpdesk_api::CommandService>(s: S) -> helpdesk_api::CommandServiceServer<S> {
        helpdesk_api::CommandServiceServer::new(s)
    }
}

#[test]
fn descriptor_set_is_self_contained_and_serves_reflection() {
    let fds = descriptors();
    let names: Vec<&str> = fds.file.iter().map(|f| f.name()).collect();
    for expected in [
        "helpdesk/v1/common.proto",
        "helpdesk/v1/commands.proto",
        "google/protobuf/timestamp.proto",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(helpdesk_api::FILE_DESCRIPTOR_SET)
        .build_v1()
        .expect("reflection v1");
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(helpdesk_api::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .expect("reflection v1alpha");
}
