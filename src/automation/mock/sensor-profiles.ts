import type { JsonObject } from '../../common/canonical-json.js';

/** What one kind of mock module measures; `step` counts its readings from 0. */
export interface SensorProfile {
  kind: string;
  reading(step: number, random: () => number): JsonObject;
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));
/** A slow daily-like swing: one full period every 240 readings. */
const swing = (step: number) => Math.sin((2 * Math.PI * step) / 240);
const noise = (random: () => number, amplitude: number) => (random() * 2 - 1) * amplitude;

/** The seed's four mock modules, in order; more modules reuse them round-robin. */
export const SENSOR_PROFILES: readonly SensorProfile[] = [
  {
    kind: 'climate',
    reading: (step, random) => ({
      sensor: 'climate',
      temperature: round(21 + 3 * swing(step) + noise(random, 0.3)),
      humidity: round(50 - 8 * swing(step) + noise(random, 1.5)),
      unit: 'C',
    }),
  },
  {
    kind: 'power',
    reading: (step, random) => {
      const voltage = round(230 + noise(random, 2));
      const current = round(Math.max(0, 8 + 6 * swing(step) + noise(random, 0.8)), 2);
      return {
        sensor: 'power',
        voltage,
        current,
        power_kw: round((voltage * current) / 1000, 3),
        energy_kwh: round(step * 0.05 + random() * 0.01, 3),
      };
    },
  },
  {
    kind: 'air',
    reading: (step, random) => ({
      sensor: 'air',
      co2_ppm: Math.round(650 + 350 * swing(step) + noise(random, 40)),
      pm2_5: round(Math.max(0, 12 + 6 * swing(step + 60) + noise(random, 2))),
      voc_index: Math.round(100 + noise(random, 25)),
    }),
  },
  {
    kind: 'pump',
    reading: (step, random) => ({
      sensor: 'pump',
      rpm: Math.round(1450 + noise(random, 12)),
      vibration_mm_s: round(1.2 + 0.4 * swing(step) + Math.abs(noise(random, 0.3)), 2),
      bearing_temperature: round(48 + 4 * swing(step) + noise(random, 0.5)),
      running: true,
    }),
  },
];
