#include "engine/app/commands.h"

int main(int argc, char** argv) { return fhirbridge::app::RunCli(argc, argv); }
