// Every lab the app knows, in sidebar order.
import type { LabSpec } from '../lab';
import { referenceClassifierSpec } from './reference-classifier';
import { activationCodecSpec } from './activation-codec';
import { cotDpoSpec } from './cot-dpo';
import { ecDitSpec } from './ec-dit';
import { byzMomentumSpec } from './byz-momentum';
import { idempotentCodecSpec } from './idempotent-codec';
import { mmEgoSpec } from './mm-ego';
import { afmOndeviceSpec } from './afm-ondevice';
import { longpibenchSpec } from './longpibench';
import { condPerceptualSpec } from './cond-perceptual';
import { mm15MixtureSpec } from './mm15-mixture';

export const LAB_SPECS: readonly LabSpec[] = [referenceClassifierSpec, activationCodecSpec, cotDpoSpec, longpibenchSpec, mmEgoSpec, ecDitSpec, mm15MixtureSpec, byzMomentumSpec, afmOndeviceSpec, idempotentCodecSpec, condPerceptualSpec];

export function findLabSpec(id: string): LabSpec | undefined {
  return LAB_SPECS.find((s) => s.id === id);
}
