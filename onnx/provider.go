package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// Providers are the execution-provider words a config uses, each with the
// name ONNX Runtime gives it. Any other word is taken as an EP name as ORT
// spells it ("QNNExecutionProvider"), looked for among the plugin devices.
var Providers = []ProviderName{
	{Word: "cpu", EP: "CPUExecutionProvider"},
	{Word: "openvino", EP: "OpenVINOExecutionProvider", Plugin: openVINOPlugin, Hint: "make openvino", CPUVendor: "GenuineIntel",
		Claims: "OpenVINO's plugin EP matches only hardware devices with Intel's vendor id 0x8086"},
	{Word: "cuda", EP: "CUDAExecutionProvider", Hint: "a GPU machine with the CUDA provider libraries beside libonnxruntime"},
	{Word: "tensorrt", EP: "TensorrtExecutionProvider", Hint: "a GPU machine with the TensorRT provider libraries beside libonnxruntime"},
}

// ProviderName is one provider word and what ortbench knows about it.
type ProviderName struct {
	Word, EP string
	// Plugin is where `make` puts the provider's plugin library, relative
	// to the repository root; "" for a provider built into libonnxruntime.
	Plugin string
	// Hint says how to get the provider where it is missing.
	Hint string
	// Claims says which hardware the provider's plugin offers devices for,
	// for the line about a plugin that offers none here.
	Claims string
	// CPUVendor is the /proc/cpuinfo vendor_id of the only CPUs the plugin
	// offers a device for; "" for any. onnxruntime-ep-openvino 1.4.0 to
	// 1.8.1 compare ORT's hardware vendor id with 0x8086 (Intel) before
	// asking OpenVINO for a device (OpenVINOEpPluginFactory::MatchOvDevice).
	CPUVendor string
}

// openVINOPlugin is where `make openvino` unpacks onnxruntime-ep-openvino.
const openVINOPlugin = ".ort/openvino-1.8.1/onnxruntime_ep_openvino/libonnxruntime_providers_openvino_plugin.so"

// LookupProvider returns the provider a config word names: a known word,
// or any other word as a plugin EP name.
func LookupProvider(word string) ProviderName {
	if word == "" {
		word = "cpu"
	}
	for _, p := range Providers {
		if strings.EqualFold(word, p.Word) || word == p.EP {
			return p
		}
	}
	return ProviderName{Word: word, EP: word}
}

// ProviderWords lists the known provider words.
func ProviderWords() []string {
	var out []string
	for _, p := range Providers {
		out = append(out, p.Word)
	}
	return out
}

// IsCPU reports whether o runs on the CPU EP alone (no provider appended).
func (o Options) IsCPU() bool { return LookupProvider(o.Provider).Word == "cpu" }

// ParseProviderOptions reads the provider_options key's text: comma-
// separated key=value pairs ("num_streams=2,num_of_threads=2"; OpenVINO takes
// its hints as load_config={"CPU":{"PERFORMANCE_HINT":"LATENCY"}}),
// handed to the provider as they are written.
func ParseProviderOptions(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not key=value", item)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s is given twice", k)
		}
		out[k] = v
	}
	return out, nil
}

var (
	pluginMu sync.Mutex
	plugins  = map[string]string{} // EP name → library registered for it
)

// PluginLibrary resolves the plugin library a provider loads: the given
// path, else where `make` puts the provider's plugin (.ort/ under the
// working directory or a parent, then beside the executable as for the ORT
// library); "" for a provider without one. A given path that is not a file
// is an error.
func PluginLibrary(p ProviderName, given string) (string, error) {
	if given != "" {
		st, err := os.Stat(given)
		if err != nil || st.IsDir() {
			return "", fmt.Errorf("provider_library %s: no such file", given)
		}
		return filepath.Abs(given)
	}
	if p.Plugin == "" {
		return "", nil
	}
	wd, _ := os.Getwd()
	exe, _ := os.Executable()
	for _, c := range pluginCandidates(wd, exe, p.Plugin) {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, nil
		}
	}
	return "", nil
}

// pluginCandidates are rel under wd and its parents, then under the
// executable's directory and its parent (bin/../.ort).
func pluginCandidates(wd, exe, rel string) []string {
	var out []string
	if wd != "" {
		for dir := wd; ; dir = filepath.Dir(dir) {
			out = append(out, filepath.Join(dir, rel))
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if exe != "" {
		dir := filepath.Dir(exe)
		out = append(out, filepath.Join(dir, rel), filepath.Join(filepath.Dir(dir), rel))
	}
	return out
}

// RegisterPlugin registers a plugin EP library under the EP's name, once
// per process; the same name from another file is an error (ORT keeps one
// registration per name). Init must have run.
func RegisterPlugin(ep, lib string) error {
	pluginMu.Lock()
	defer pluginMu.Unlock()
	if had, ok := plugins[ep]; ok {
		if had != lib {
			return fmt.Errorf("provider %s: plugin %s is already registered from %s in this process", ep, lib, had)
		}
		return nil
	}
	if err := ort.RegisterExecutionProviderLibrary(ep, lib); err != nil {
		return fmt.Errorf("provider_library %s is not an execution-provider plugin this ONNX Runtime %s can load: %s", lib, Version(), oneLine(err))
	}
	plugins[ep] = lib
	return nil
}

// Device is one (execution provider, device) pair ORT offers.
type Device struct {
	EP, Vendor string
	// Library is the plugin library the EP came from; "" for one built
	// into libonnxruntime.
	Library string
}

// Devices lists the EP devices the loaded library and the registered
// plugins offer, in ORT's order.
func Devices() ([]Device, error) {
	devs, err := ort.GetEpDevices()
	if err != nil {
		return nil, fmt.Errorf("listing execution-provider devices: %s", oneLine(err))
	}
	pluginMu.Lock()
	defer pluginMu.Unlock()
	out := make([]Device, 0, len(devs))
	for _, d := range devs {
		out = append(out, Device{EP: d.EpName(), Vendor: d.EpVendor(), Library: plugins[d.EpName()]})
	}
	return out, nil
}

// appendProvider adds o's provider to the session options: CUDA and
// TensorRT through the binding's appenders (built into GPU builds of
// libonnxruntime), any other through the plugin API — its library
// registered, its devices chosen by GetEpDevices, appended with
// AppendExecutionProviderV2 — or, where no plugin offers it, ORT's
// string appender for providers built into the library.
func (o Options) appendProvider(so *ort.SessionOptions) error {
	p := LookupProvider(o.Provider)
	switch p.Word {
	case "cpu":
		if len(o.ProviderOptions) > 0 {
			return fmt.Errorf("provider cpu takes no provider_options (got %s)", FormatProviderOptions(o.ProviderOptions))
		}
		return nil
	case "cuda":
		return appendCUDA(so, o.ProviderOptions)
	case "tensorrt":
		return appendTensorRT(so, o.ProviderOptions)
	}
	lib, err := PluginLibrary(p, o.ProviderLibrary)
	if err != nil {
		return err
	}
	if lib != "" {
		if err := RegisterPlugin(p.EP, lib); err != nil {
			return err
		}
	}
	devs, err := ort.GetEpDevices()
	if err != nil {
		return fmt.Errorf("provider %s: listing devices: %s", p.Word, oneLine(err))
	}
	var mine []ort.EpDevice
	for _, d := range devs {
		if d.EpName() == p.EP {
			mine = append(mine, d)
		}
	}
	if len(mine) > 0 {
		if err := so.AppendExecutionProviderV2(mine, o.ProviderOptions); err != nil {
			return fmt.Errorf("provider %s rejects provider_options %s: %s", p.Word, FormatProviderOptions(o.ProviderOptions), oneLine(err))
		}
		return nil
	}
	if err := so.AppendExecutionProvider(strings.TrimSuffix(p.EP, "ExecutionProvider"), o.ProviderOptions); err == nil {
		return nil
	}
	return missingProvider(p, lib)
}

// missingProvider is the one line for a provider neither a plugin nor the
// library offers: what they do offer, and how to get this one.
func missingProvider(p ProviderName, lib string) error {
	var have []string
	if devs, err := Devices(); err == nil {
		for _, d := range devs {
			if !slices.Contains(have, d.EP) {
				have = append(have, d.EP)
			}
		}
	}
	sort.Strings(have)
	msg := fmt.Sprintf("provider %s (%s): ONNX Runtime %s at %s does not offer it", p.Word, p.EP, Version(), LibraryPath())
	if lib != "" {
		msg = fmt.Sprintf("provider %s: plugin %s loaded but offers no %s device on this machine", p.Word, lib, p.EP)
		switch v := cpuVendor(); {
		case p.Claims != "" && p.CPUVendor != "" && v == p.CPUVendor:
			msg += " (this CPU is " + v + ", a vendor it claims: the plugin's own runtime found no device for it)"
		case p.Claims != "":
			msg += " (" + p.Claims + "; this CPU is " + v + ")"
		}
		return errors.New(msg + "; the devices here are " + strings.Join(have, ", "))
	}
	msg += "; it offers " + strings.Join(have, ", ")
	if p.Hint != "" {
		msg += " (for " + p.Word + ": " + p.Hint + ")"
	} else {
		msg += " (give provider_library: the plugin's shared library)"
	}
	return errors.New(msg)
}

// cpuVendor is /proc/cpuinfo's vendor_id ("GenuineIntel", "AuthenticAMD").
func cpuVendor() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "of an unknown vendor"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "vendor_id" {
			return strings.TrimSpace(v)
		}
	}
	return "of an unknown vendor"
}

// FormatProviderOptions writes options as provider_options reads them,
// keys sorted.
func FormatProviderOptions(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

func appendCUDA(so *ort.SessionOptions, opts map[string]string) error {
	co, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return fmt.Errorf("provider cuda: %s", oneLine(err))
	}
	defer co.Destroy()
	if len(opts) > 0 {
		if err := co.Update(opts); err != nil {
			return fmt.Errorf("provider cuda rejects provider_options %s: %s", FormatProviderOptions(opts), oneLine(err))
		}
	}
	if err := so.AppendExecutionProviderCUDA(co); err != nil {
		return fmt.Errorf("provider cuda: ONNX Runtime %s cannot use CUDA here: %s", Version(), oneLine(err))
	}
	return nil
}

func appendTensorRT(so *ort.SessionOptions, opts map[string]string) error {
	to, err := ort.NewTensorRTProviderOptions()
	if err != nil {
		return fmt.Errorf("provider tensorrt: %s", oneLine(err))
	}
	defer to.Destroy()
	if len(opts) > 0 {
		if err := to.Update(opts); err != nil {
			return fmt.Errorf("provider tensorrt rejects provider_options %s: %s", FormatProviderOptions(opts), oneLine(err))
		}
	}
	if err := so.AppendExecutionProviderTensorRT(to); err != nil {
		return fmt.Errorf("provider tensorrt: ONNX Runtime %s cannot use TensorRT here: %s", Version(), oneLine(err))
	}
	return nil
}

// ProbeProvider reports whether the loaded library (with its plugin, where
// the provider has one) can append p: nil, or the one line why not. It
// builds throwaway session options; nothing runs.
func ProbeProvider(p ProviderName, library string) error {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return err
	}
	defer so.Destroy()
	// ORT logs a missing provider library on stderr as well as returning
	// it; the returned line is the one ortbench prints.
	_ = ort.SetEnvironmentLogLevel(ort.LoggingLevelFatal)
	defer ort.SetEnvironmentLogLevel(ort.LoggingLevelError)
	return Options{Provider: p.Word, ProviderLibrary: library}.appendProvider(so)
}

// ProviderStatus is one provider's standing with the loaded library.
type ProviderStatus struct {
	ProviderName
	// Library is the plugin library tried; "" for a built-in provider.
	Library string
	// Err is why the provider cannot be appended here; nil when it can.
	Err error
}

// ProviderReport probes every known provider, and each plugin given as EP
// name → library, against the loaded library: what `ortbench providers`
// prints. Init must have run.
func ProviderReport(plugins map[string]string) []ProviderStatus {
	var out []ProviderStatus
	for _, p := range Providers {
		lib, err := PluginLibrary(p, plugins[p.Word])
		if err == nil {
			err = ProbeProvider(p, lib)
		}
		out = append(out, ProviderStatus{ProviderName: p, Library: lib, Err: err})
	}
	names := make([]string, 0, len(plugins))
	for ep := range plugins {
		names = append(names, ep)
	}
	sort.Strings(names)
	for _, ep := range names {
		p := LookupProvider(ep)
		if p.Plugin != "" || p.Hint != "" || p.Word == "cpu" {
			continue // a known word, probed above
		}
		lib, err := PluginLibrary(p, plugins[ep])
		if err == nil {
			err = ProbeProvider(p, lib)
		}
		out = append(out, ProviderStatus{ProviderName: p, Library: lib, Err: err})
	}
	return out
}
