import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { DEFAULT_SETTINGS, IBatchSettings } from './tokens';

/**
 * Read the user's settings, falling back to the defaults field by field.
 */
export function readSettings(
  setting: ISettingRegistry.ISettings | null
): IBatchSettings {
  if (!setting) {
    return DEFAULT_SETTINGS;
  }
  const composite = setting.composite as Partial<IBatchSettings>;
  const resources: Partial<IBatchSettings['defaultResources']> =
    composite.defaultResources ?? {};
  return {
    proxyUrl: composite.proxyUrl || DEFAULT_SETTINGS.proxyUrl,
    defaultBackend: composite.defaultBackend ?? DEFAULT_SETTINGS.defaultBackend,
    defaultCatalog: composite.defaultCatalog ?? DEFAULT_SETTINGS.defaultCatalog,
    defaultButlerRepo:
      composite.defaultButlerRepo ?? DEFAULT_SETTINGS.defaultButlerRepo,
    defaultInputCollections:
      composite.defaultInputCollections ??
      DEFAULT_SETTINGS.defaultInputCollections,
    defaultResources: {
      ...DEFAULT_SETTINGS.defaultResources,
      ...resources
    }
  };
}
