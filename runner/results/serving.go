package results

// Serving is a server-scenario cell's figures (docs/METRICS.md, "Serving"):
// requests of RequestRows rows arrived open-loop at TargetQPS; latency
// runs from each request's scheduled arrival to its completion.
type Serving struct {
	Arrival     string  `json:"arrival"` // poisson | constant
	Seed        uint64  `json:"seed"`
	RequestRows int     `json:"request_rows"`
	TargetQPS   float64 `json:"target_qps"`
	// OfferedQPS is the schedule's own rate; AchievedQPS completions per
	// second from the first arrival to the last completion.
	OfferedQPS  float64 `json:"offered_qps"`
	AchievedQPS float64 `json:"achieved_qps"`
	Requests    int     `json:"requests"`
	Completed   int     `json:"completed"`
	Unfinished  int     `json:"unfinished"`
	// Servers is how many goroutines served at once.
	Servers         int     `json:"servers"`
	DurationSeconds float64 `json:"duration_seconds"`
	Latency         Latency `json:"latency_seconds"`
	Queueing        Latency `json:"queueing_seconds"`
	Service         Latency `json:"service_seconds"`
	// SchedulingError is the load generator's: actual − scheduled send.
	SchedulingError Latency `json:"scheduling_error_seconds"`
	// QueueGrowth is the slope of queueing delay against arrival time.
	QueueGrowth float64 `json:"queue_growth"`
	// Saturated: the cell did not keep up (achieved more than 5% below
	// offered, the queue growing, or requests left unfinished).
	Saturated       bool   `json:"saturated"`
	SaturatedReason string `json:"saturated_reason,omitempty"`
	SLO             *SLO   `json:"slo,omitempty"`
	// BatchSizes counts inference calls by the requests they served
	// ("1": 812, "4": 30); the batcher's formed batches.
	BatchSizes map[string]int64 `json:"batch_sizes,omitempty"`
	// HistogramLog is the file (beside results.json) holding this cell's
	// latency histogram in HdrHistogram's interval log format.
	HistogramLog string `json:"histogram_log,omitempty"`
	// Search is set on a strategy's SLO-search cell.
	Search *Search `json:"search,omitempty"`
}

// SLO is a server cell's standing against the latency objective.
type SLO struct {
	Percentile     float64 `json:"percentile"`
	LatencySeconds float64 `json:"latency_seconds"`
	// MissedFraction is the share of completed requests slower than the
	// SLO; GoodputQPS those that met it, per second.
	MissedFraction float64 `json:"missed_fraction"`
	GoodputQPS     float64 `json:"goodput_qps"`
	// Met: every LoadGen rule held (FailedRule names the first that did
	// not: saturated, min_duration, min_requests, early_stopping).
	Met        bool   `json:"met"`
	FailedRule string `json:"failed_rule,omitempty"`
	Detail     string `json:"detail,omitempty"`
}

// Search is the highest QPS a strategy sustains within the SLO.
type Search struct {
	// MaxSustainableQPS is the highest load that met every rule (0: none).
	MaxSustainableQPS float64      `json:"max_sustainable_qps"`
	Precision         float64      `json:"precision"`
	Steps             []SearchStep `json:"steps"`
}

// SearchStep is one load the search tried, in order.
type SearchStep struct {
	QPS               float64 `json:"qps"`
	AchievedQPS       float64 `json:"achieved_qps"`
	Requests          int     `json:"requests"`
	OverSLO           int     `json:"over_slo"`
	PercentileSeconds float64 `json:"percentile_seconds"`
	P99Seconds        float64 `json:"p99_seconds"`
	Passed            bool    `json:"passed"`
	FailedRule        string  `json:"failed_rule,omitempty"`
	Detail            string  `json:"detail,omitempty"`
}

// IsServer reports whether the cell ran under server load.
func (c *Cell) IsServer() bool { return c.Serving != nil }
