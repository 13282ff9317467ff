package strategy

import (
	"path/filepath"
	"strings"

	"github.com/ortbench/ortbench/onnx"
)

// DefaultProvider is the provider key's default: ORT's CPU EP alone.
const DefaultProvider = "cpu"

// Validate is every problem of cfg: its own keys' (Config.Validate) and
// those of the keys Base gives every strategy.
func Validate(cfg Config) []error {
	if pythonSide(cfg) {
		return cfg.Validate()
	}
	errs := append(cfg.Validate(), cfg.Common().validateProvider()...)
	if p, ok := cfg.(pinner); ok {
		errs = append(errs, p.pinning().validate()...)
	}
	return errs
}

// validateProvider checks what can be told without the library: a known
// provider word (or an EP name as ORT spells it), options that parse, a
// plugin library that is an absolute path to a file. Whether the library
// offers the provider, and whether it takes the options, is told when the
// cell opens its sessions (a failed cell with ORT's line).
func (b *Base) validateProvider() []error {
	if b.Facts.NoORT {
		return nil
	}
	p := onnx.LookupProvider(b.Provider)
	var errs []error
	if !knownProvider(b.Provider) {
		hint := ""
		if s := suggest(b.Provider, onnx.ProviderWords()); s != "" {
			hint = "did you mean " + s + "? "
		}
		errs = append(errs, keyErr("provider", "unknown provider %q (%swant %s, or an execution provider's name as ONNX Runtime spells it, such as QNNExecutionProvider)",
			b.Provider, hint, strings.Join(onnx.ProviderWords(), ", ")))
	}
	opts, err := onnx.ParseProviderOptions(b.ProviderOptions)
	switch {
	case err != nil:
		errs = append(errs, keyErr("provider_options", "%v (want key=value,… such as num_streams=2,num_of_threads=2)", err))
	case len(opts) > 0 && p.Word == DefaultProvider:
		errs = append(errs, keyErr("provider_options", "%q: the cpu provider takes no provider options (its threads are the strategy's own keys)", b.ProviderOptions))
	}
	if b.ProviderLibrary != "" {
		if !filepath.IsAbs(b.ProviderLibrary) {
			errs = append(errs, keyErr("provider_library", "%q: give an absolute path to the provider's plugin library", b.ProviderLibrary))
		} else if _, err := onnx.PluginLibrary(p, b.ProviderLibrary); err != nil {
			errs = append(errs, keyErr("provider_library", "%v", err))
		}
	}
	return errs
}

// pythonSide reports whether cfg is a py-* strategy's: the Python wheel's
// CPU EP, without the provider keys.
func pythonSide(cfg Config) bool {
	_, ok := cfg.(interface{ pythonSide() })
	return ok
}

// knownProvider: a provider word, or a name shaped like ORT's EP names.
func knownProvider(word string) bool {
	for _, p := range onnx.Providers {
		if strings.EqualFold(word, p.Word) || word == p.EP {
			return true
		}
	}
	return strings.HasSuffix(word, "ExecutionProvider")
}

// providerOptions copies the provider keys into a session's options.
func (b *Base) providerOptions(o *onnx.Options) {
	o.Provider = onnx.LookupProvider(b.Provider).Word
	o.ProviderOptions, _ = onnx.ParseProviderOptions(b.ProviderOptions) // validated
	if len(o.ProviderOptions) == 0 {
		o.ProviderOptions = nil
	}
	o.ProviderLibrary = b.ProviderLibrary
}

// providerWord is the description's note of a provider other than the CPU EP.
func providerWord(b *Base) string {
	if b.Facts.NoORT || onnx.LookupProvider(b.Provider).Word == DefaultProvider {
		return ""
	}
	s := ", on " + onnx.LookupProvider(b.Provider).Word
	if b.ProviderOptions != "" {
		s += " (" + b.ProviderOptions + ")"
	}
	return s
}

// suggest is the candidate within two edits of word, if one is.
func suggest(word string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(word), c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
