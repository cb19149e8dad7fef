// doctor: checks the setup haproxy-asg runs in and says how to fix what is wrong.
#include <unistd.h>

#include <iostream>

#include "cli/commands.h"
#include "doctor/doctor.h"

namespace hasg::cli {

int doctor_command(const DoctorArgs& args) {
  doctor::DoctorOptions options;
  options.config_path = args.config;
  if (options.config_path.empty() && ::access(doctor::kDefaultConfigPath, F_OK) == 0)
    options.config_path = doctor::kDefaultConfigPath;
  doctor::RealHost host;
  auto results = doctor::run_doctor(options, host, std::make_unique<aws::ProcessEnvironment>());
  if (args.json)
    std::cout << doctor::to_json(results).dump(2) << "\n";
  else
    std::cout << doctor::format_text(results);
  return doctor::exit_code(results);
}

}  // namespace hasg::cli
