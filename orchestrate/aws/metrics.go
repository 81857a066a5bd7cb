package aws

import (
	"context"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
)

// Metrics is the orchestrate.Metrics on CloudWatch: one PutMetricData
// per record, its KPIs as gauges with the dimension Label, timestamped
// with the backup's stop, so that publishing a record twice puts the same
// points again. It is safe for concurrent use.
type Metrics struct {
	// config
	client    *cloudwatch.Client
	namespace string
}

// metric is one KPI of a record.
type metric struct {
	name  string
	value float64
	unit  cwtypes.StandardUnit
}

// metricsOf returns the KPIs of rec, converted here from the neutral
// kpi.Report: the seed's four, and how the backup went.
func metricsOf(rec efsync.Record) []metric {
	r := rec.Report
	ok, took := 0.0, 0.0
	if rec.Status == kpi.StatusSuccess {
		ok = 1
	}
	if !rec.Stop.IsZero() {
		took = rec.Stop.Sub(rec.Start).Seconds()
	}
	return []metric{
		{"NumberOfFiles", float64(r.Scanned.Total()), cwtypes.StandardUnitCount},
		{"NumberOfFilesTransferred", float64(r.Files.Transferred), cwtypes.StandardUnitCount},
		{"TotalFileSize", float64(r.Bytes.Scanned), cwtypes.StandardUnitBytes},
		{"TotalTransferredFileSize", float64(r.Bytes.Transferred), cwtypes.StandardUnitBytes},
		{"FilesFailed", float64(r.Files.Failed), cwtypes.StandardUnitCount},
		{"Duration", took, cwtypes.StandardUnitSeconds},
		{"Success", ok, cwtypes.StandardUnitNone},
	}
}

// Publish puts the KPIs of rec.
func (m *Metrics) Publish(ctx context.Context, rec efsync.Record) error {
	at := rec.Stop
	if at.IsZero() {
		at = rec.Start
	}
	dims := []cwtypes.Dimension{{Name: awssdk.String("Label"), Value: awssdk.String(rec.Label)}}
	var data []cwtypes.MetricDatum
	for _, k := range metricsOf(rec) {
		data = append(data, cwtypes.MetricDatum{MetricName: awssdk.String(k.name), Value: awssdk.Float64(k.value),
			Unit: k.unit, Dimensions: dims, Timestamp: awssdk.Time(at)})
	}
	_, err := m.client.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: awssdk.String(m.namespace), MetricData: data})
	if err != nil {
		return fmt.Errorf("metrics %s: %w", rec.ID, err)
	}
	return nil
}
