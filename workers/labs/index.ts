// Every lab's executable definition, keyed by id. Specs live in common/labs.
import type { LabDefinition } from '../runtime/context';
import { referenceClassifierLab } from './reference-classifier/lab';
import { activationCodecLab } from './activation-codec/lab';
import { cotDpoLab } from './cot-dpo/lab';
import { ecDitLab } from './ec-dit/lab';
import { byzMomentumLab } from './byz-momentum/lab';
import { idempotentCodecLab } from './idempotent-codec/lab';
import { mmEgoLab } from './mm-ego/lab';
import { longpibenchLab } from './longpibench/lab';
import { afmOndeviceLab } from './afm-ondevice/lab';
import { condPerceptualLab } from './cond-perceptual/lab';
import { mm15MixtureLab } from './mm15-mixture/lab';

export const LABS: Record<string, LabDefinition> = {
  [referenceClassifierLab.spec.id]: referenceClassifierLab,
  [activationCodecLab.spec.id]: activationCodecLab,
  [cotDpoLab.spec.id]: cotDpoLab,
  [ecDitLab.spec.id]: ecDitLab,
  [byzMomentumLab.spec.id]: byzMomentumLab,
  [idempotentCodecLab.spec.id]: idempotentCodecLab,
  [mmEgoLab.spec.id]: mmEgoLab,
  [longpibenchLab.spec.id]: longpibenchLab,
  [afmOndeviceLab.spec.id]: afmOndeviceLab,
  [condPerceptualLab.spec.id]: condPerceptualLab,
  [mm15MixtureLab.spec.id]: mm15MixtureLab,
};
