package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// K8sOptions describe the Kubernetes manifest K8s writes.
type K8sOptions struct {
	// Name prefixes every object (NAME-config, NAME-shards, NAME-merge) and
	// labels them; a DNS label of at most 50 characters (default "ortbench").
	Name      string
	Namespace string // optional: metadata.namespace of every object
	// Image is the container image holding ortbench and what the config
	// reads (model, dataset). Required.
	Image string
	// Config is the experiment file's content, put in a ConfigMap. Required.
	Config []byte
	// ConfigPath is where the config file appears in the containers
	// (default /etc/ortbench/config.yaml). Relative model and dataset paths
	// in the config resolve against its directory: mount it where the image
	// keeps its configs (e.g. /ortbench/configs/x.yaml), or use absolute
	// paths in the config.
	ConfigPath string
	// Shards is the Indexed Job's completions and parallelism (≥ 1).
	Shards int
	// ResultsClaim names the PersistentVolumeClaim every pod mounts for
	// results (ReadWriteMany when shards may run on different nodes).
	// Required. Shard k (the completion index, 0-based) writes
	// ResultsPath/shards/k, the merge ResultsPath/merged.
	ResultsClaim string
	ResultsPath  string // default /results
	// Binary is ortbench's path in the image (default "ortbench").
	Binary string
	// RunArgs are added to each shard's `ortbench run`, MergeArgs to
	// `ortbench merge`.
	RunArgs, MergeArgs []string
	// CPU and Memory ("4", "8Gi"), when set, are each shard's requests and
	// limits alike (Guaranteed QoS: with the kubelet's static CPU manager
	// the shard gets whole cores to itself). The CPU limit is the shard's
	// CFS quota, from which its automatic counts resolve (cores.go).
	CPU, Memory string
	// WaitImage runs the merge Job's init container, which waits until every
	// shard has written its results.json (default busybox:1.36; it needs sh).
	WaitImage string
	// MergeDeadlineSeconds bounds the merge Job, waiting included (default
	// 86400): a shard that never writes results ends it there.
	MergeDeadlineSeconds int64
	// Command, when set, replaces each shard container's command (the
	// default is Binary run -c ConfigPath --shard auto --out
	// ResultsPath/shards/$(ORTBENCH_SHARD_INDEX) RunArgs…).
	Command []string
	// MergeCommand, when set, replaces the merge container's command.
	MergeCommand []string
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// K8s writes a multi-document YAML manifest, applied with one
// `kubectl apply -f FILE`:
//
//   - a ConfigMap NAME-config holding the experiment file;
//   - an Indexed Job NAME-shards (completionMode: Indexed, completions =
//     parallelism = Shards) whose pods run `ortbench run --shard auto`
//     (shard JOB_COMPLETION_INDEX+1 of ORTBENCH_SHARDS, see shard.FromEnv)
//     into the results volume, one pod per node (pod anti-affinity), never
//     retried (a retried shard would measure on a different node);
//   - a merge Job NAME-merge whose init container waits until every shard
//     has written its results.json, then runs `ortbench merge`.
//
// Note: Kubernetes has no "after that Job" dependency. The merge Job could
// instead run `kubectl wait --for=condition=complete job/NAME-shards`, but
// that needs a service account allowed to read Jobs; waiting on the shared
// volume needs nothing beyond what the shards already use.
func K8s(opts K8sOptions) ([]byte, error) {
	o := opts
	o.Name = def(o.Name, "ortbench")
	o.ConfigPath = def(o.ConfigPath, "/etc/ortbench/config.yaml")
	o.ResultsPath = strings.TrimRight(def(o.ResultsPath, "/results"), "/")
	o.Binary = def(o.Binary, "ortbench")
	o.WaitImage = def(o.WaitImage, "busybox:1.36")
	if o.MergeDeadlineSeconds == 0 {
		o.MergeDeadlineSeconds = 86400
	}
	if err := o.check(); err != nil {
		return nil, err
	}

	shardsDir := o.ResultsPath + "/shards"
	command := o.Command
	if command == nil {
		command = append([]string{o.Binary, "run", "-c", o.ConfigPath}, o.RunArgs...)
		command = append(command, "--shard", "auto", "--out", shardsDir+"/$(ORTBENCH_SHARD_INDEX)")
	}
	merge := o.MergeCommand
	if merge == nil {
		merge = append([]string{o.Binary, "merge"}, o.MergeArgs...)
		for k := 0; k < o.Shards; k++ {
			merge = append(merge, fmt.Sprintf("%s/%d", shardsDir, k))
		}
		merge = append(merge, "--out", o.ResultsPath+"/merged")
	}
	var indices []string
	for k := 0; k < o.Shards; k++ {
		indices = append(indices, fmt.Sprint(k))
	}
	// No "$(" in the script: Kubernetes would try to expand it as a variable.
	wait := fmt.Sprintf(`for i in %s; do until ls %s/$i/*/*/results.json >/dev/null 2>&1; do echo "waiting for shard $i's results in %s/$i"; sleep 10; done; done; echo "all %d shards have results"`,
		strings.Join(indices, " "), shardsDir, shardsDir, o.Shards)

	cm, err := configMap(o)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `# Written by ortbench fleet k8s: %d shards of an experiment as a Kubernetes
# Indexed Job, then a merge Job that waits for every shard's results.
#
#   kubectl apply -f THIS_FILE
#   kubectl wait --for=condition=complete job/%s-merge --timeout=24h
#
# The PersistentVolumeClaim %q must exist (ReadWriteMany if shards can run
# on different nodes). Results: %s/shards/<index>, merged: %s/merged.
`, o.Shards, o.Name, o.ResultsClaim, o.ResultsPath, o.ResultsPath)
	b.WriteString("---\n")
	b.Write(cm)
	data := map[string]any{
		"O": o, "Command": command, "Merge": merge, "Wait": wait,
		"ConfigFile": path.Base(o.ConfigPath),
	}
	if err := jobsTemplate.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (o K8sOptions) check() error {
	var errs []string
	if len(o.Name) > 50 || !dnsLabel.MatchString(o.Name) {
		errs = append(errs, fmt.Sprintf("name %q: want lower-case letters, digits and '-', at most 50 characters", o.Name))
	}
	if o.Namespace != "" && !dnsLabel.MatchString(o.Namespace) {
		errs = append(errs, fmt.Sprintf("namespace %q is not a DNS label", o.Namespace))
	}
	if o.Image == "" {
		errs = append(errs, "no image given")
	}
	if o.CPU != "" {
		if _, err := CPUQuota(o.CPU); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(o.Config) == 0 {
		errs = append(errs, "no config given")
	}
	if o.Shards < 1 {
		errs = append(errs, fmt.Sprintf("--shards %d: want at least 1", o.Shards))
	}
	if o.ResultsClaim == "" {
		errs = append(errs, "no results volume claim given")
	} else if !dnsLabel.MatchString(o.ResultsClaim) && !regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`).MatchString(o.ResultsClaim) {
		errs = append(errs, fmt.Sprintf("results claim %q is not a valid name", o.ResultsClaim))
	}
	if !path.IsAbs(o.ConfigPath) || strings.HasSuffix(o.ConfigPath, "/") {
		errs = append(errs, fmt.Sprintf("config path %q: want an absolute file path", o.ConfigPath))
	}
	if !path.IsAbs(o.ResultsPath) {
		errs = append(errs, fmt.Sprintf("results path %q: want an absolute path", o.ResultsPath))
	}
	if o.MergeDeadlineSeconds < 0 {
		errs = append(errs, "merge deadline must be positive")
	}
	if len(errs) > 0 {
		return errors.New("fleet k8s: " + strings.Join(errs, "; "))
	}
	return nil
}

// configMap encodes the ConfigMap with the YAML encoder, so the config's
// text (any indentation, quotes, '---' lines) survives exactly.
func configMap(o K8sOptions) ([]byte, error) {
	type meta struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace,omitempty"`
		Labels    map[string]string `yaml:"labels"`
	}
	doc := struct {
		APIVersion string            `yaml:"apiVersion"`
		Kind       string            `yaml:"kind"`
		Metadata   meta              `yaml:"metadata"`
		Data       map[string]string `yaml:"data"`
	}{
		APIVersion: "v1", Kind: "ConfigMap",
		Metadata: meta{Name: o.Name + "-config", Namespace: o.Namespace, Labels: map[string]string{
			"app.kubernetes.io/name": "ortbench", "ortbench.dev/run": o.Name}},
		Data: map[string]string{path.Base(o.ConfigPath): string(o.Config)},
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("fleet k8s: encoding the config map: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// q quotes a string as a YAML (JSON) double-quoted scalar.
func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// list writes a string list as a YAML flow sequence of quoted scalars.
func list(xs []string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = q(x)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

var jobsTemplate = template.Must(template.New("jobs").Funcs(template.FuncMap{"q": q, "list": list}).Parse(`---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{q (print .O.Name "-shards")}}
{{- if .O.Namespace}}
  namespace: {{q .O.Namespace}}
{{- end}}
  labels:
    app.kubernetes.io/name: ortbench
    ortbench.dev/run: {{q .O.Name}}
spec:
  completionMode: Indexed
  completions: {{.O.Shards}}
  parallelism: {{.O.Shards}}
  backoffLimit: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ortbench
        ortbench.dev/run: {{q .O.Name}}
        ortbench.dev/role: shard
    spec:
      restartPolicy: Never
      affinity:
        podAntiAffinity:
          # One shard per node: a benchmark must not share its cores.
          requiredDuringSchedulingIgnoredDuringExecution:
            - labelSelector:
                matchLabels:
                  ortbench.dev/run: {{q .O.Name}}
                  ortbench.dev/role: shard
              topologyKey: kubernetes.io/hostname
      containers:
        - name: shard
          image: {{q .O.Image}}
          command: {{list .Command}}
          env:
            - name: ORTBENCH_SHARDS
              value: {{q (print .O.Shards)}}
            - name: ORTBENCH_SHARD_INDEX
              valueFrom:
                fieldRef:
                  fieldPath: metadata.annotations['batch.kubernetes.io/job-completion-index']
{{- if or .O.CPU .O.Memory}}
          resources:
            requests:
{{- if .O.CPU}}
              cpu: {{q .O.CPU}}
{{- end}}
{{- if .O.Memory}}
              memory: {{q .O.Memory}}
{{- end}}
            limits:
{{- if .O.CPU}}
              cpu: {{q .O.CPU}}
{{- end}}
{{- if .O.Memory}}
              memory: {{q .O.Memory}}
{{- end}}
{{- end}}
{{- template "storage" .}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{q (print .O.Name "-merge")}}
{{- if .O.Namespace}}
  namespace: {{q .O.Namespace}}
{{- end}}
  labels:
    app.kubernetes.io/name: ortbench
    ortbench.dev/run: {{q .O.Name}}
spec:
  backoffLimit: 0
  activeDeadlineSeconds: {{.O.MergeDeadlineSeconds}}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ortbench
        ortbench.dev/run: {{q .O.Name}}
        ortbench.dev/role: merge
    spec:
      restartPolicy: Never
      initContainers:
        - name: wait-for-shards
          image: {{q .O.WaitImage}}
          command: ["sh", "-c", {{q .Wait}}]
          volumeMounts:
            - name: results
              mountPath: {{q .O.ResultsPath}}
              readOnly: true
      containers:
        - name: merge
          image: {{q .O.Image}}
          command: {{list .Merge}}
{{- template "storage" .}}
{{- /* Both jobs' pods mount the config and the results claim alike. */}}
{{define "storage"}}
          volumeMounts:
            - name: config
              mountPath: {{q .O.ConfigPath}}
              subPath: {{q .ConfigFile}}
              readOnly: true
            - name: results
              mountPath: {{q .O.ResultsPath}}
      volumes:
        - name: config
          configMap:
            name: {{q (print .O.Name "-config")}}
        - name: results
          persistentVolumeClaim:
            claimName: {{q .O.ResultsClaim}}{{end}}`))
