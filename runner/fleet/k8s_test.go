package fleet

import (
	"regexp"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// A config whose text is hard to carry through YAML: indentation, a first
// line starting with spaces, quotes, a '---' line, tabs, no final newline.
const trickyConfig = "  # leading spaces\nname: k8s-test\n---\nstrategies:\n  - strategy: sequential   \n\t# tab\nnote: \"quoted\" 'single' $(NOT_A_VAR) ünïcode"

// decode splits the manifest into documents and decodes each strictly
// (unknown fields are errors) with the Kubernetes API types.
func decode(t *testing.T, manifest []byte) (*corev1.ConfigMap, []*batchv1.Job) {
	t.Helper()
	docs := regexp.MustCompile(`(?m)^---$`).Split(string(manifest), -1)
	var cm *corev1.ConfigMap
	var jobs []*batchv1.Job
	for _, d := range docs {
		if strings.TrimSpace(stripComments(d)) == "" {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(d), &head); err != nil {
			t.Fatalf("document does not parse: %v\n%s", err, d)
		}
		switch head.APIVersion + " " + head.Kind {
		case "v1 ConfigMap":
			cm = new(corev1.ConfigMap)
			if err := yaml.UnmarshalStrict([]byte(d), cm); err != nil {
				t.Fatalf("ConfigMap: %v\n%s", err, d)
			}
		case "batch/v1 Job":
			j := new(batchv1.Job)
			if err := yaml.UnmarshalStrict([]byte(d), j); err != nil {
				t.Fatalf("Job: %v\n%s", err, d)
			}
			jobs = append(jobs, j)
		default:
			t.Fatalf("unexpected document %s %s", head.APIVersion, head.Kind)
		}
	}
	if cm == nil || len(jobs) != 2 {
		t.Fatalf("want a ConfigMap and two Jobs, got configmap=%v jobs=%d", cm != nil, len(jobs))
	}
	return cm, jobs
}

func stripComments(d string) string {
	var keep []string
	for _, l := range strings.Split(d, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func TestK8sManifest(t *testing.T) {
	manifest, err := K8s(K8sOptions{
		Name:         "go-vs-ort",
		Namespace:    "bench",
		Image:        "ghcr.io/example/ortbench:1.2",
		Config:       []byte(trickyConfig),
		ConfigPath:   "/ortbench/configs/go-vs-ort-threads.yaml",
		Shards:       3,
		ResultsClaim: "ortbench-results",
		CPU:          "4",
		Memory:       "8Gi",
		RunArgs:      []string{"--repetitions", "3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cm, jobs := decode(t, manifest)

	if cm.Name != "go-vs-ort-config" || cm.Namespace != "bench" {
		t.Errorf("config map %s/%s", cm.Namespace, cm.Name)
	}
	if got := cm.Data["go-vs-ort-threads.yaml"]; got != trickyConfig {
		t.Errorf("config text changed on the way:\n got %q\nwant %q", got, trickyConfig)
	}

	shards, merge := jobs[0], jobs[1]
	if shards.Name != "go-vs-ort-shards" || merge.Name != "go-vs-ort-merge" || shards.Namespace != "bench" || merge.Namespace != "bench" {
		t.Errorf("job names %s/%s, %s/%s", shards.Namespace, shards.Name, merge.Namespace, merge.Name)
	}
	s := shards.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode %v, want Indexed", s.CompletionMode)
	}
	if s.Completions == nil || *s.Completions != 3 || s.Parallelism == nil || *s.Parallelism != 3 {
		t.Errorf("completions %v parallelism %v, want 3 and 3", s.Completions, s.Parallelism)
	}
	if s.BackoffLimit == nil || *s.BackoffLimit != 0 {
		t.Errorf("backoffLimit %v, want 0", s.BackoffLimit)
	}
	checkPod(t, "shards", s.Template.Spec, cm.Name, "ortbench-results")
	c := s.Template.Spec.Containers[0]
	if c.Image != "ghcr.io/example/ortbench:1.2" {
		t.Errorf("image %q", c.Image)
	}
	wantCmd := "ortbench run -c /ortbench/configs/go-vs-ort-threads.yaml --repetitions 3 --shard auto --out /results/shards/$(ORTBENCH_SHARD_INDEX)"
	if got := strings.Join(c.Command, " "); got != wantCmd {
		t.Errorf("shard command %q, want %q", got, wantCmd)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if env["ORTBENCH_SHARDS"].Value != "3" {
		t.Errorf("ORTBENCH_SHARDS = %q", env["ORTBENCH_SHARDS"].Value)
	}
	if f := env["ORTBENCH_SHARD_INDEX"].ValueFrom; f == nil || f.FieldRef == nil || f.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("ORTBENCH_SHARD_INDEX not from the completion index: %+v", env["ORTBENCH_SHARD_INDEX"])
	}
	if c.Resources.Requests.Cpu().String() != "4" || c.Resources.Limits.Cpu().String() != "4" || c.Resources.Limits.Memory().String() != "8Gi" {
		t.Errorf("resources %+v", c.Resources)
	}
	aff := s.Template.Spec.Affinity
	if aff == nil || aff.PodAntiAffinity == nil || len(aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 1 ||
		aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].TopologyKey != "kubernetes.io/hostname" {
		t.Errorf("no one-shard-per-node anti-affinity: %+v", aff)
	} else if sel := aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector; sel == nil ||
		!subset(sel.MatchLabels, s.Template.Labels) {
		t.Errorf("anti-affinity selector %v does not select the shard pods %v", sel, s.Template.Labels)
	}

	m := merge.Spec
	if m.CompletionMode != nil && *m.CompletionMode == batchv1.IndexedCompletion {
		t.Error("the merge job should not be indexed")
	}
	if m.ActiveDeadlineSeconds == nil || *m.ActiveDeadlineSeconds != 86400 {
		t.Errorf("merge deadline %v", m.ActiveDeadlineSeconds)
	}
	checkPod(t, "merge", m.Template.Spec, cm.Name, "ortbench-results")
	if len(m.Template.Spec.InitContainers) != 1 {
		t.Fatalf("merge: want one init container (the wait), got %d", len(m.Template.Spec.InitContainers))
	}
	wait := strings.Join(m.Template.Spec.InitContainers[0].Command, " ")
	if !strings.Contains(wait, "for i in 0 1 2;") || !strings.Contains(wait, "/results/shards/$i/*/*/results.json") || strings.Contains(wait, "$(") {
		t.Errorf("wait command %q", wait)
	}
	wantMerge := "ortbench merge /results/shards/0 /results/shards/1 /results/shards/2 --out /results/merged"
	if got := strings.Join(m.Template.Spec.Containers[0].Command, " "); got != wantMerge {
		t.Errorf("merge command %q, want %q", got, wantMerge)
	}
}

// checkPod checks what every Job's pod needs: restartPolicy Never or
// OnFailure, named containers with images, every mount backed by a volume,
// the config from the ConfigMap and the results from the claim.
func checkPod(t *testing.T, what string, p corev1.PodSpec, configMap, claim string) {
	t.Helper()
	if p.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("%s: restartPolicy %q, want Never", what, p.RestartPolicy)
	}
	if len(p.Containers) != 1 {
		t.Fatalf("%s: %d containers", what, len(p.Containers))
	}
	vols := map[string]corev1.Volume{}
	for _, v := range p.Volumes {
		vols[v.Name] = v
	}
	if v := vols["config"]; v.ConfigMap == nil || v.ConfigMap.Name != configMap {
		t.Errorf("%s: config volume %+v, want config map %s", what, v, configMap)
	}
	if v := vols["results"]; v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != claim {
		t.Errorf("%s: results volume %+v, want claim %s", what, v, claim)
	}
	for _, c := range append(append([]corev1.Container{}, p.InitContainers...), p.Containers...) {
		if c.Name == "" || c.Image == "" || len(c.Command) == 0 {
			t.Errorf("%s: container %q lacks a name, image or command", what, c.Name)
		}
		for _, m := range c.VolumeMounts {
			if _, ok := vols[m.Name]; !ok {
				t.Errorf("%s: container %s mounts %s, which is no volume", what, c.Name, m.Name)
			}
		}
	}
}

func subset(a, b map[string]string) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) > 0
}

func TestK8sDefaultsAndCommandOverride(t *testing.T) {
	manifest, err := K8s(K8sOptions{Image: "ortbench:dev", Config: []byte("name: x\n"), Shards: 1, ResultsClaim: "r",
		Command: []string{"sh", "-c", "echo $JOB_COMPLETION_INDEX"}})
	if err != nil {
		t.Fatal(err)
	}
	cm, jobs := decode(t, manifest)
	if cm.Name != "ortbench-config" || cm.Data["config.yaml"] != "name: x\n" || cm.Namespace != "" {
		t.Errorf("config map %+v", cm)
	}
	c := jobs[0].Spec.Template.Spec.Containers[0]
	if strings.Join(c.Command, " ") != "sh -c echo $JOB_COMPLETION_INDEX" {
		t.Errorf("command override: %q", c.Command)
	}
	if len(c.Resources.Requests) != 0 {
		t.Errorf("resources without CPU/Memory: %+v", c.Resources)
	}
	if c.VolumeMounts[0].MountPath != "/etc/ortbench/config.yaml" || c.VolumeMounts[0].SubPath != "config.yaml" {
		t.Errorf("config mount %+v", c.VolumeMounts[0])
	}
}

func TestK8sOptionErrors(t *testing.T) {
	ok := K8sOptions{Image: "i", Config: []byte("x"), Shards: 2, ResultsClaim: "r"}
	cases := []struct {
		mut  func(*K8sOptions)
		want string
	}{
		{func(o *K8sOptions) { o.Image = "" }, "fleet k8s: no image given"},
		{func(o *K8sOptions) { o.Config = nil }, "fleet k8s: no config given"},
		{func(o *K8sOptions) { o.Shards = 0 }, "fleet k8s: --shards 0: want at least 1"},
		{func(o *K8sOptions) { o.ResultsClaim = "" }, "fleet k8s: no results volume claim given"},
		{func(o *K8sOptions) { o.Name = "Bad_Name" }, `fleet k8s: name "Bad_Name": want lower-case letters, digits and '-', at most 50 characters`},
		{func(o *K8sOptions) { o.ConfigPath = "rel/config.yaml" }, `fleet k8s: config path "rel/config.yaml": want an absolute file path`},
	}
	for _, c := range cases {
		o := ok
		c.mut(&o)
		if _, err := K8s(o); err == nil || err.Error() != c.want {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
	if _, err := K8s(ok); err != nil {
		t.Errorf("valid options: %v", err)
	}
}
