// programme: the zone programme's projects, budgets and pledge indicators.
//
//   programme --listen=127.0.0.1:50054 --metrics_listen=127.0.0.1:9467
//     --mysql_dsn=mysql://smz_programme@127.0.0.1:3306/smz_programme
//     --mysql_credentials_file=/path/programme.mysql
//     --registry_target=127.0.0.1:50051
//
// Every flag also reads an SMZ_* environment variable (common/config.h,
// common/server/service_main.h).

#include "common/server/service_main.h"
#include "services/programme/programme_schema.h"
#include "services/programme/programme_server.h"

int main(int argc, char** argv) {
  return smz::ServiceMain(
      argc, argv,
      {"programme", "127.0.0.1:50054", smz::RegistryUse::kCallers,
       &smz::programme::ProgrammeMigrations},
      [](const smz::MainConfig& config) {
        smz::programme::ProgrammeServerOptions options;
        smz::ApplyMainConfig(config, &options);
        options.registry_target = config.registry_target;
        return smz::programme::ProgrammeServer::Start(options);
      });
}
