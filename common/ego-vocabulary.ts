// The first-person world's names (places, containers, objects), declared once for the
// simulator (workers/data/ego) and the panel that lets a user ask about them.
export const EGO_PLACES = ['counter', 'desk', 'shelf', 'drawer', 'fridge', 'sink'] as const;
export type EgoPlace = (typeof EGO_PLACES)[number];
/** Places with a door: closed, nothing inside can be seen, taken or put. */
export const EGO_CONTAINERS: readonly EgoPlace[] = ['drawer', 'fridge'];
export const EGO_OBJECTS = ['bag', 'sneaker', 'trouser', 'dress', 'coat', 'sandal', 'cup', 'key'] as const;
export type EgoObject = (typeof EGO_OBJECTS)[number];
