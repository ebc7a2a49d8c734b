package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
)

// Metrics are the server's Prometheus instruments, on a registry of their own
// (no global state).
type Metrics struct {
	Registry *prometheus.Registry

	connections   prometheus.Gauge
	connsTotal    *prometheus.CounterVec
	sessions      prometheus.GaugeFunc
	stanzasIn     prometheus.Counter
	stanzasOut    prometheus.Counter
	authFailures  *prometheus.CounterVec
	queueOverflow *prometheus.CounterVec
	dropped       *prometheus.CounterVec
	panics        prometheus.Counter
}

func newMetrics(sessionCount func() int) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "junction_c2s_connections", Help: "Open client connections, negotiating or bound.",
		}),
		connsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "junction_c2s_connections_total", Help: "Client connections accepted, by transport security at connect.",
		}, []string{"tls"}),
		sessions: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "junction_sessions", Help: "Bound client sessions.",
		}, func() float64 { return float64(sessionCount()) }),
		stanzasIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "junction_stanzas_in_total", Help: "Stanzas received from clients.",
		}),
		stanzasOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "junction_stanzas_out_total", Help: "Stanzas written to clients.",
		}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "junction_auth_failures_total", Help: "Failed SASL authentication attempts, by mechanism.",
		}, []string{"mechanism"}),
		queueOverflow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "junction_queue_overflow_total", Help: "Connections closed because their outbound queue was full.",
		}, []string{"kind"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "junction_stanzas_dropped_total", Help: "Stanzas neither delivered nor bounced, as RFC 6121 prescribes, by reason.",
		}, []string{"reason"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "junction_panics_total", Help: "Recovered panics.",
		}),
	}
	// Series an admin alerts on exist from the start, at zero.
	m.queueOverflow.WithLabelValues("c2s")
	m.Registry.MustRegister(
		m.connections, m.connsTotal, m.sessions, m.stanzasIn, m.stanzasOut,
		m.authFailures, m.queueOverflow, m.dropped, m.panics,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// c2sObserver adapts Metrics to c2s.Observer.
type c2sObserver struct{ m *Metrics }

func (o c2sObserver) ConnOpened(directTLS bool) {
	o.m.connections.Inc()
	if directTLS {
		o.m.connsTotal.WithLabelValues("direct").Inc()
	} else {
		o.m.connsTotal.WithLabelValues("starttls").Inc()
	}
}
func (o c2sObserver) ConnClosed()          { o.m.connections.Dec() }
func (o c2sObserver) StanzaIn()            { o.m.stanzasIn.Inc() }
func (o c2sObserver) StanzaOut(n int)      { o.m.stanzasOut.Add(float64(n)) }
func (o c2sObserver) AuthFailure(m string) { o.m.authFailures.WithLabelValues(mechLabel(m)).Inc() }
func (o c2sObserver) Panic()               { o.m.panics.Inc() }
func (o c2sObserver) QueueOverflow()       { o.m.queueOverflow.WithLabelValues("c2s").Inc() }

// mechLabel keeps the label set bounded whatever a client sends.
func mechLabel(m string) string {
	switch m {
	case "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-1", "SCRAM-SHA-1-PLUS", "PLAIN":
		return m
	case "":
		return "none"
	default:
		return "other"
	}
}

// QueueOverflows is how many client connections were closed for a full
// outbound queue.
func (m *Metrics) QueueOverflows() float64 {
	var d dto.Metric
	if err := m.queueOverflow.WithLabelValues("c2s").Write(&d); err != nil {
		return 0
	}
	return d.GetCounter().GetValue()
}
