#ifndef CLIBVIRT_SHIM_H
#define CLIBVIRT_SHIM_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

/// libvirt's default authentication callback (prompts on the terminal for SASL credentials, and answers polkit's
/// questions). A global C variable: read here so that Swift does not see a mutable global.
static inline virConnectAuthPtr
clibvirt_default_auth(void)
{
    return virConnectAuthPtrDefault;
}

// VIR_DOMAIN_EVENT_CALLBACK() is a function-like macro Swift cannot import. Doing the cast here
// keeps each callback's real signature type-checked on the Swift side.

/// Registers a VIR_DOMAIN_EVENT_ID_LIFECYCLE callback.
static inline int
clibvirt_register_lifecycle(virConnectPtr conn, virDomainPtr dom,
                            virConnectDomainEventCallback cb, void *opaque, virFreeCallback freecb)
{
    return virConnectDomainEventRegisterAny(conn, dom, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                            VIR_DOMAIN_EVENT_CALLBACK(cb), opaque, freecb);
}

/// Registers a VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION callback.
static inline int
clibvirt_register_migration_iteration(virConnectPtr conn, virDomainPtr dom,
                                      virConnectDomainEventMigrationIterationCallback cb,
                                      void *opaque, virFreeCallback freecb)
{
    return virConnectDomainEventRegisterAny(conn, dom, VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION,
                                            VIR_DOMAIN_EVENT_CALLBACK(cb), opaque, freecb);
}

/// Registers a VIR_DOMAIN_EVENT_ID_JOB_COMPLETED callback.
static inline int
clibvirt_register_job_completed(virConnectPtr conn, virDomainPtr dom,
                                virConnectDomainEventJobCompletedCallback cb,
                                void *opaque, virFreeCallback freecb)
{
    return virConnectDomainEventRegisterAny(conn, dom, VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                                            VIR_DOMAIN_EVENT_CALLBACK(cb), opaque, freecb);
}

#endif
