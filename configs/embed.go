// Package configs embeds the shipped experiment files, so `ortbench run`
// with no -c runs quick.yaml from any directory inside the repository.
package configs

import "embed"

// Files holds every shipped *.yaml.
//
//go:embed *.yaml
var Files embed.FS

// Default is the experiment `make bench` and a bare `ortbench run` use.
const Default = "quick.yaml"
