// Package configs embeds the shipped experiment files, for listing and
// reading them from the binary. The default experiment that `ortbench run`
// with no -c uses is embedded together with its model and data by the
// module's root package (github.com/ortbench/ortbench), which can reach
// training/ and datasets/; it extracts them so they run from any directory.
package configs

import "embed"

// Files holds every shipped *.yaml.
//
//go:embed *.yaml
var Files embed.FS

// Default is the experiment `make bench` and a bare `ortbench run` use.
const Default = "quick.yaml"
