// Small pure pieces of the workbench: text contrast on heatmap cells, metric groups, and the
// params form keeping edited fields across a preset change.
import { describe, expect, it } from 'vitest';
import { luminance, readableTextOn } from '../renderer/src/charts/contrast';
import { axisUnitLabel, metricGroups } from '../common/metrics';
import { valuesForPreset } from '../renderer/src/components/ParamsForm';
import type { LabInfo } from '../common/api';

describe('workbench helpers', () => {
  it('text on a heat colour is whichever of near-black and white contrasts more', () => {
    expect(luminance([255, 255, 255])).toBeCloseTo(1, 6);
    expect(luminance([0, 0, 0])).toBe(0);
    expect(readableTextOn([255, 255, 204])).toBe('#111827'); // pale yellow
    expect(readableTextOn([227, 26, 28])).toBe('#ffffff'); // the red that carried dark text before
    expect(readableTextOn([128, 0, 38])).toBe('#ffffff');
    expect(readableTextOn([253, 141, 60])).toBe('#111827'); // orange
  });

  it('metrics group by their first word; one-word names share "run"', () => {
    expect(metricGroups(['acc_a_b', 'roundsPerSec', 'acc_c', 'gamma_a'])).toEqual([['acc', ['acc_a_b', 'acc_c']], ['run', ['roundsPerSec']], ['gamma', ['gamma_a']]]);
    expect(axisUnitLabel('fraction')).toBe('fraction');
    expect(axisUnitLabel('number')).toBeUndefined();
  });

  it('a preset change keeps the fields edited by hand and takes the new preset for the rest', () => {
    const lab = {
      fields: [{ name: 'epochs', kind: 'integer', default: 5 }, { name: 'lr', kind: 'number', default: 0.1 }, { name: 'seed', kind: 'integer', default: 1 }],
      presets: { smoke: { epochs: 1 }, default: {}, paper: { epochs: 20, lr: 0.01 } },
    } as unknown as LabInfo;
    const current = { epochs: '3', lr: '0.1' };
    expect(valuesForPreset(lab, 'paper', current, new Set(['epochs']))).toEqual({ epochs: '3', lr: '0.01' });
    expect(valuesForPreset(lab, 'paper', current, new Set())).toEqual({ epochs: '20', lr: '0.01' });
  });
});
