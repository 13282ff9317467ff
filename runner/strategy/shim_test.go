package strategy

import (
	"errors"
	"fmt"
)

// tp is a test's cell settings by field; conf turns them into a strategy's
// typed config the way the config package does (only the keys the
// strategy takes, defaults for the rest).
type tp struct {
	Workers, Threads, BatchSize   int
	Transport, Start, StartMethod string
	Data                          string
	Spinning                      bool
	Affinity                      bool
}

func (p tp) point(def Definition) map[string]any {
	all := map[string]any{"workers": p.Workers, "threads": p.Threads, "transport": p.Transport, "start": p.Start,
		"start_method": p.StartMethod, "data": p.Data, "affinity": p.Affinity}
	point := map[string]any{}
	for _, k := range def.ConfigKeys(false) {
		v, ok := all[k]
		if !ok || v == 0 || v == "" || v == false {
			continue
		}
		point[k] = v
	}
	return point
}

// conf decodes p into def's config; it panics on a decode error (a test bug).
func conf(def Definition, p tp) Config {
	cfg, err := def.Decode(p.point(def), DecodeOptions{Batch: max(p.BatchSize, 1), Spinning: p.Spinning})
	if err != nil {
		panic(fmt.Sprintf("%s: %v", def.Name, err))
	}
	return cfg
}

func validate(def Definition, p tp) error { return errors.Join(conf(def, p).Validate()...) }

func describe(def Definition, p tp) string { return conf(def, p).Describe() }
