#ifndef FOOTFALL_CPCAP_SHIM_H
#define FOOTFALL_CPCAP_SHIM_H
#include <pcap/pcap.h>
#include <stdio.h>
#endif
