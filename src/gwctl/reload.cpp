// SPDX-License-Identifier: MIT
// gwctl reload IFACE: gwd applies its config file's changes, as `wg syncconf`.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arguments.hpp"
#include "command.hpp"
#include "exit.hpp"
#include "format.hpp"
#include "gw/control/request_builder.hpp"

namespace gw::gwctl {

namespace {

using nlohmann::json;

// A reload reply's list member; nullopt when it is not a list of strings.
std::optional<std::vector<std::string>> string_list(const json& reply, const char* member) {
  std::vector<std::string> out;
  if (!reply.contains(member)) return out;
  const json& j = reply[member];
  if (!j.is_array()) return std::nullopt;
  for (const auto& item : j) {
    if (!item.is_string()) return std::nullopt;
    out.push_back(item.get<std::string>());
  }
  return out;
}

int reload(const Connection& to, const std::string& iface) {
  if (auto e = check_interface("reload", iface)) return usage(*e);
  json request = control::reload_request();
  const Reply reply = call(to, iface, request);
  if (!reply) return fail(reply.error);
  const auto added = string_list(reply.json, "added");
  const auto removed = string_list(reply.json, "removed");
  const auto changed = string_list(reply.json, "changed");
  const auto restart = string_list(reply.json, "restart_required");
  if (!added || !removed || !changed || !restart) {
    return fail("gwd for " + iface + " sent a reload reply gwctl cannot read");
  }
  if (!print(reload_text(*added, *removed, *changed))) return kFailure;
  if (!restart->empty()) {
    return fail("reload: applied; these need a restart of gwd: " + join(*restart, ", "));
  }
  return 0;
}

}  // namespace

void add_reload_command(CLI::App& app, const Connection& to, Commands& out) {
  auto iface = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("reload", "apply the config file's changes to the running gwd");
  cmd->add_option("IFACE", *iface, "the interface");
  out.push_back({cmd, [&to, iface] { return reload(to, *iface); }});
}

}  // namespace gw::gwctl
