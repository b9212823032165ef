import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartType,
} from 'chart.js';
import { useEffect, useRef } from 'react';

// Only what the console draws: lines and bars on category and linear axes. Tree-shaking keeps
// the rest of Chart.js (and all of it from the people-facing app, which never imports this).
Chart.register(LineController, LineElement, PointElement, BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

/** The palette of styles.css, for the canvas (which cannot read CSS variables cheaply). */
export const COLORS = {
  text: '#f2f2f7',
  muted: '#a3a3b8',
  grid: 'rgba(255, 255, 255, 0.07)',
  accent: '#ff5d73',
  accent2: '#5dd6ff',
  ok: '#3ddc97',
  warn: '#ffb454',
  violet: '#b18cff',
  panel: '#1b1b26',
} as const;

export function alpha(hex: string, a: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

Chart.defaults.color = COLORS.muted;
Chart.defaults.borderColor = COLORS.grid;
Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
Chart.defaults.font.size = 12;
Chart.defaults.maintainAspectRatio = false;
// No animation: an operator reads numbers, and a chart caught mid-animation (after a resize, or
// in a screenshot) shows bars and points in the wrong place.
Chart.defaults.animation = false;
Chart.defaults.plugins.legend.labels.boxWidth = 10;
Chart.defaults.plugins.legend.labels.boxHeight = 10;
Chart.defaults.plugins.legend.labels.usePointStyle = true;
Chart.defaults.plugins.tooltip.backgroundColor = '#0c0c12';
Chart.defaults.plugins.tooltip.borderColor = 'rgba(255, 255, 255, 0.12)';
Chart.defaults.plugins.tooltip.borderWidth = 1;
Chart.defaults.plugins.tooltip.padding = 10;
Chart.defaults.plugins.tooltip.titleColor = COLORS.text;
Chart.defaults.plugins.tooltip.bodyColor = COLORS.text;

/**
 * Binds a Chart.js chart to a <canvas> for as long as the component lives. A new `config`
 * (memoize it) updates the chart in place; a change of chart type rebuilds it.
 */
export function useChart<T extends ChartType>(config: ChartConfiguration<T>) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const chartRef = useRef<Chart<T> | null>(null);
  const drawn = useRef<ChartConfiguration<T> | null>(null);

  // Runs after every render: the canvas can come and go (empty states) without the config changing.
  useEffect(() => {
    const canvas = canvasRef.current;
    const chart = chartRef.current;
    if (chart && chart.canvas !== canvas) {
      chart.destroy();
      chartRef.current = null;
    }
    if (!canvas) return;
    if (chartRef.current && drawn.current === config) return;
    drawn.current = config;
    if (chartRef.current && (chartRef.current.config as { type?: string }).type === config.type) {
      chartRef.current.data = config.data;
      if (config.options) chartRef.current.options = config.options;
      chartRef.current.update();
      return;
    }
    chartRef.current?.destroy();
    chartRef.current = new Chart(canvas, config);
  });

  useEffect(
    () => () => {
      chartRef.current?.destroy();
      chartRef.current = null;
    },
    [],
  );

  return canvasRef;
}
