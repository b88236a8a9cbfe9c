// Lab-specific panels, shown above a run's generic charts.
import type { ComponentType } from 'react';
import type { RunDetail } from '../../../common/api';
import { ReferenceClassifierPanel } from './reference-classifier';
import { ActivationCodecPanel } from './activation-codec';
import { CotDpoPanel } from './cot-dpo';
import { EcDitPanel } from './ec-dit';
import { ByzMomentumPanel } from './byz-momentum';
import { IdempotentCodecPanel } from './idempotent-codec';
import { CondPerceptualPanel } from './cond-perceptual';
import { MmEgoPanel } from './mm-ego';
import { AfmOndevicePanel } from './afm-ondevice';
import { LongpibenchPanel } from './longpibench';
import { Mm15MixturePanel } from './mm15-mixture';

export const PANELS: Record<string, ComponentType<{ detail: RunDetail }>> = {
  'reference-classifier': ReferenceClassifierPanel,
  'activation-codec': ActivationCodecPanel,
  'cot-dpo': CotDpoPanel,
  'ec-dit': EcDitPanel,
  'byz-momentum': ByzMomentumPanel,
  'idempotent-codec': IdempotentCodecPanel,
  'cond-perceptual': CondPerceptualPanel,
  'mm-ego': MmEgoPanel,
  'afm-ondevice': AfmOndevicePanel,
  longpibench: LongpibenchPanel,
  'mm15-mixture': Mm15MixturePanel,
};
