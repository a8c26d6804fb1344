// SPDX-License-Identifier: MIT
// gwctl's state commands: show [IFACE] [--json] (as `wg show`) and
// version [IFACE].
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arguments.hpp"
#include "command.hpp"
#include "exit.hpp"
#include "format.hpp"
#include "gw/control/request_builder.hpp"
#include "gw/control/status.hpp"

#ifndef GW_VERSION
#define GW_VERSION "unknown"
#endif

namespace gw::gwctl {

namespace {

using nlohmann::json;

struct ShowArgs {
  std::string iface;
  bool json = false;
};

// Adds one interface's show reply to `text` (or to `all` for --json);
// returns the exit code of that interface.
int show_one(const Connection& to, const std::string& name, bool as_json, std::string& text,
             json& all) {
  json request = control::show_request();
  Reply reply = call(to, name, request);
  if (!reply) return fail(reply.error);
  std::string error;
  const auto status = control::status_from_json(reply.json, error);
  if (!status) return fail("gwd for " + name + " sent a show reply gwctl cannot read: " + error);
  if (as_json) {
    // The reply as gwd sent it, members this gwctl does not know included.
    reply.json.erase("version");
    reply.json.erase("ok");
    all.push_back(std::move(reply.json));
  } else {
    if (!text.empty()) text += '\n';
    text += show_text(*status);
  }
  return 0;
}

int show(const Connection& to, const ShowArgs& args) {
  if (auto e = check_optional_interface("show", args.iface)) return usage(*e);
  const std::vector<std::string> names =
      args.iface.empty() ? running_interfaces(to.run_dir) : std::vector<std::string>{args.iface};
  int rc = 0;
  std::string text;
  json all = json::array();
  for (const std::string& name : names) {
    if (show_one(to, name, args.json, text, all) != 0) rc = kFailure;
  }
  if (args.json) {
    if (!args.iface.empty() && all.empty()) return rc;
    text = (args.iface.empty() ? all : all.front()).dump(2) + "\n";
  }
  if (!print(text)) return kFailure;
  return rc;
}

int version(const Connection& to, const std::string& iface) {
  if (auto e = check_optional_interface("version", iface)) return usage(*e);
  std::string text = "gwctl " GW_VERSION "\n";
  if (!iface.empty()) {
    json request = control::version_request();
    const Reply reply = call(to, iface, request);
    if (!reply) return fail(reply.error);
    const json& j = reply.json;
    if (!j.contains("gwd") || !j["gwd"].is_string() || !j.contains("protocol") ||
        !j["protocol"].is_number_integer()) {
      return fail("gwd for " + iface + " sent a version reply gwctl cannot read");
    }
    text += "gwd " + j["gwd"].get<std::string>() + " (" + iface + ", control protocol " +
            std::to_string(j["protocol"].get<long long>()) + ")\n";
  }
  return print(text) ? 0 : kFailure;
}

}  // namespace

void add_show_command(CLI::App& app, const Connection& to, Commands& out) {
  auto args = std::make_shared<ShowArgs>();
  auto* cmd = app.add_subcommand(
      "show", "show interfaces and peers (every running interface without IFACE)");
  cmd->add_option("IFACE", args->iface, "the interface");
  cmd->add_flag("--json", args->json, "print gwd's show reply as JSON");
  out.push_back({cmd, [&to, args] { return show(to, *args); }});
}

void add_version_command(CLI::App& app, const Connection& to, Commands& out) {
  auto iface = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("version", "print gwctl's version, and gwd's for IFACE");
  cmd->add_option("IFACE", *iface, "the interface");
  out.push_back({cmd, [&to, iface] { return version(to, *iface); }});
}

}  // namespace gw::gwctl
