// Every lab's executable definition, keyed by id. Specs live in common/labs.
import type { LabDefinition } from '../runtime/context';
import { referenceClassifierLab } from './reference-classifier/lab';
import { activationCodecLab } from './activation-codec/lab';
import { cotDpoLab } from './cot-dpo/lab';
import { ecDitLab } from './ec-dit/lab';
import { byzMomentumLab } from './byz-momentum/lab';

export const LABS: Record<string, LabDefinition> = {
  [referenceClassifierLab.spec.id]: referenceClassifierLab as unknown as LabDefinition,
  [activationCodecLab.spec.id]: activationCodecLab as unknown as LabDefinition,
  [cotDpoLab.spec.id]: cotDpoLab as unknown as LabDefinition,
  [ecDitLab.spec.id]: ecDitLab as unknown as LabDefinition,
  [byzMomentumLab.spec.id]: byzMomentumLab as unknown as LabDefinition,
};
