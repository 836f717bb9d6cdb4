/**
 * A time chart of one measure per node, drawn by uPlot (a canvas chart made for streaming time
 * series: tens of KB, no dependencies, redraws thousands of points in a millisecond), from the
 * samples the page keeps.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { NodeSample } from '../store.ts';
import type { LiveNode } from '@weft/protocol';

const PALETTE = ['#2f80ed', '#eb5757', '#27ae60', '#9b51e0', '#f2994a', '#56ccf2', '#6fcf97', '#bb6bd9'];

export interface ChartProps {
  title: string;
  samples: NodeSample[];
  /** The value for a node in a sample; null: not known. */
  measure: (node: LiveNode) => number | null;
  format: (value: number) => string;
  /** The least top of the y axis (so an idle node's flat line sits at the bottom). */
  floor: number;
}

export function NodeChart({ title, samples, measure, format, floor }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const nodeIds = [...new Set(samples.flatMap((sample) => sample.nodes.map((node) => node.nodeId)))];
  const key = nodeIds.join(',');
  const data: uPlot.AlignedData = [
    samples.map((sample) => sample.at / 1000),
    ...nodeIds.map((id) => samples.map((sample) => {
      const node = sample.nodes.find((n) => n.nodeId === id);
      return node === undefined ? null : measure(node);
    })),
  ];
  useEffect(() => {
    if (box.current === null) return undefined;
    const options: uPlot.Options = {
      title, width: Math.max(300, box.current.clientWidth), height: 180,
      series: [{}, ...nodeIds.map((id, i) => ({ label: id, stroke: PALETTE[i % PALETTE.length], width: 2, value: (_u: uPlot, v: number | null) => (v === null ? '—' : format(v)) }))],
      axes: [{}, { values: (_u: uPlot, ticks: number[]) => ticks.map(format), size: 70 }],
      scales: { y: { range: (_u: uPlot, _min: number, max: number) => [0, Math.max(max * 1.1, floor)] } },
    };
    plot.current = new uPlot(options, data, box.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [key]);
  useEffect(() => { plot.current?.setData(data); });
  return <div class="chart" ref={box} />;
}
